// Public surface of lib/budget: consumer classes, the trading reserve and stream-or-poll routing.

export {
  type BudgetConfig,
  budgetSchema,
  CONSUMER_CLASSES,
  type ConsumerClass,
  consumerClassSchema,
  type DataRoute,
  dataRouteSchema,
  reservedSlots,
  type Routing,
  routingSchema,
} from "./classes.ts";
export {
  type Admission,
  type BudgetHolder,
  BudgetLedger,
  DEFAULT_HOLDER,
  type LedgerOptions,
  type LedgerReport,
  type Slot,
} from "./ledger.ts";
export {
  type BudgetClassView,
  type BudgetKeyView,
  type BudgetReport,
  type PollStats,
  type PollStatsProvider,
  SubscriptionBudget,
} from "./budget.ts";
