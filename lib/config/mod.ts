// Public surface of lib/config: the gateway's one configuration (zod schemas and the loader that
// merges the JSON file, the environment and command-line flags).

export {
  type ApiKeyEntry,
  apiKeyEntrySchema,
  apiKeyName,
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
  type OptionChainConfig,
  optionChainSchema,
  RESERVED_KEY_NAMES,
} from "./config.ts";
