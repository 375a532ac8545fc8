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
