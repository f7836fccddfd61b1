/** Comlink's Node adapter is a UMD file whose typings and runtime shape disagree under NodeNext. */
import type { Endpoint } from 'comlink';
import * as adapter from 'comlink/dist/umd/node-adapter.js';

type NodeEndpointFn = (port: import('comlink/dist/umd/node-adapter.js').NodeEndpoint) => Endpoint;
const loaded = adapter as unknown as { default: NodeEndpointFn | { default: NodeEndpointFn } };
export const nodeEndpoint: NodeEndpointFn = typeof loaded.default === 'function' ? loaded.default : loaded.default.default;
