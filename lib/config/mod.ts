// Public surface of lib/config: the gateway's one configuration (zod schemas and the loader that
// merges the JSON file, the environment and command-line flags).

export {
  type ApiKeyEntry,
  apiKeyEntrySchema,
  brokerSchema,
  type Config,
  ConfigError,
  type ConfigOverrides,
  configSchema,
  describeIssues,
  type Limits,
  limitsSchema,
  loadConfig,
  marketDataSchema,
  type NatsConfig,
  natsSchema,
} from "./config.ts";
