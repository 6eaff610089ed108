/**
 * The one capability the models need from the daemon: typed requests. The extension passes its
 * DaemonClient; the node tests pass a JSON-RPC connection to the real daemon process.
 */
import type { RequestMethod, RequestParams, RequestResult } from '../generated/protocol';

export interface DaemonApi {
  request<M extends RequestMethod>(method: M, params: RequestParams<M>): Promise<RequestResult<M>>;
}
