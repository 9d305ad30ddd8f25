// Public surface of the RPC subsystem: method table, errors, dispatcher, OpenRPC, HTTP transport.

export {
  FRAMEWORK_ERROR_RANGE,
  JsonRpcErrorCode,
  RpcError,
  RpcErrors,
  SERVER_ERROR_RANGE,
  defineRpcError,
  encodeErrorResponse,
  specError,
  type JsonRpcErrorObject,
  type JsonRpcId,
  type RpcErrorKind,
} from './errors.ts';
export {
  defineMethod,
  type MethodDefinition,
  type ParamSpec,
  type ParamValues,
  type ResultSpec,
  type RpcContext,
  type RpcMethod,
} from './method.ts';
export {
  DEFAULT_MAX_BATCH_LENGTH,
  DEFAULT_MAX_NESTING_DEPTH,
  DISCOVER_METHOD,
  createDispatcher,
  exceedsNestingDepth,
  type DispatcherOptions,
  type RpcDispatcher,
  type RpcLogger,
} from './dispatcher.ts';
export {
  ADMIN_TAG,
  OPENRPC_VERSION,
  buildOpenRpcDocument,
  type JsonSchema,
  type OpenRpcContentDescriptor,
  type OpenRpcDocument,
  type OpenRpcError,
  type OpenRpcInfo,
  type OpenRpcMethod,
} from './openrpc.ts';
export {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_RPC_HOST,
  RPC_PATH,
  RpcHttpServer,
  type HttpRoute,
  type RpcHttpAddress,
  type RpcHttpServerDeps,
  type RpcHttpServerOptions,
} from './httpServer.ts';
