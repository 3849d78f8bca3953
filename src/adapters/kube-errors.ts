import { errorMessage, ReefError } from '../errors.js';

/** What went wrong talking to a Kubernetes API server, in the terms an operator acts on. */
export type KubeFailure =
  | 'config'
  | 'unreachable'
  | 'timeout'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'gone'
  | 'conflict'
  | 'too-many-requests'
  | 'api';

/** One API call, described well enough to say which permission it needs. */
export interface KubeRequest {
  cluster: string;
  /** The API server URL (never with credentials). */
  server: string;
  /** RBAC verb: get, list, watch, delete, create, patch… */
  verb: string;
  /** Plural resource name as RBAC spells it (`pods`, `replicasets`, `pods/log`, `pods/eviction`). */
  resource: string;
  /** API group ('' for the core group). */
  group?: string;
  /** Absent for requests across all namespaces. */
  namespace?: string;
  name?: string;
}

/**
 * A failed Kubernetes call. `failure` lets callers steer (a watch re-lists on `gone`, an executor will not
 * retry `forbidden`); the message alone tells the operator what is wrong and what to grant or fix.
 */
export class KubeApiError extends ReefError {
  readonly failure: KubeFailure;
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;
  readonly request: KubeRequest | undefined;

  constructor(
    failure: KubeFailure,
    message: string,
    options: {
      status?: number;
      request?: KubeRequest;
      hint?: string;
      cause?: unknown;
      /** The server's `details.causes` messages. */
      details?: readonly string[];
    } = {},
  ) {
    super('reef_check_failed', message, {
      hint: options.hint,
      cause: options.cause,
      ...(options.details ? { details: options.details } : {}),
    });
    this.name = 'KubeApiError';
    this.failure = failure;
    this.status = options.status;
    this.request = options.request;
  }
}

export function isKubeApiError(error: unknown): error is KubeApiError {
  return error instanceof KubeApiError;
}

/**
 * Turns whatever the client library threw (ApiException with an HTTP code and a Status body, a watch
 * error with `statusCode`, a node-fetch FetchError, an abort) into a KubeApiError. `timedOut` says the
 * caller's own deadline aborted the request.
 */
export function toKubeApiError(error: unknown, request: KubeRequest, timedOut = false): KubeApiError {
  if (error instanceof KubeApiError) return error;
  const what = describeRequest(request);
  const e = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const status =
    typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const base = { status, request, cause: error };
  if (timedOut) {
    return new KubeApiError(
      'timeout',
      `the Kubernetes API of cluster ${request.cluster} (${request.server}) did not answer in time (${what})`,
      base,
    );
  }
  if (status === undefined) {
    return new KubeApiError(
      'unreachable',
      `cannot reach the Kubernetes API of cluster ${request.cluster} at ${request.server} (${what}): ${shortCause(error)}; is the API server up and the kubeconfig server address right?`,
      base,
    );
  }
  const server = parseStatus(e.body);
  const causes = server.causes?.length ? `: ${server.causes.join('; ')}` : '';
  const said = server.message ? ` (server: ${server.message}${causes})` : '';
  const details = server.causes ? { details: server.causes } : {};
  switch (status) {
    case 401:
      return new KubeApiError(
        'unauthorized',
        `unauthorized: cluster ${request.cluster} rejected Reef's credentials (${what}); the token or client certificate in the kubeconfig is missing, wrong or expired`,
        base,
      );
    case 403: {
      const user = /User "([^"]+)"/.exec(server.message ?? '')?.[1];
      const where =
        request.namespace === undefined ? 'at the cluster scope' : `in namespace ${request.namespace}`;
      const grant = `grant ${request.verb} on ${rbacResource(request)}${request.namespace === undefined ? ' in a ClusterRole' : ''}${user ? ` to ${user}` : ''}`;
      return new KubeApiError(
        'forbidden',
        `forbidden: cannot ${request.verb} ${request.resource} ${where} (RBAC: ${grant})`,
        base,
      );
    }
    case 404:
      return new KubeApiError('not-found', `not found: ${what}${said}`, base);
    case 409:
      return new KubeApiError(
        'conflict',
        `conflict: ${what} changed since Reef read it, so nothing was written${said}`,
        { ...base, hint: 'Run the step again to act on the current version, or check who else edits it.' },
      );
    case 429:
      // From the eviction subresource this is a PodDisruptionBudget refusing, not throttling.
      return new KubeApiError('too-many-requests', `refused with 429 Too Many Requests (${what})${said}`, {
        ...base,
        ...details,
      });
    case 410:
      return new KubeApiError(
        'gone',
        `gone: the resource version is too old (${what}); the list must be fetched afresh${said}`,
        base,
      );
    default:
      return new KubeApiError('api', `HTTP ${status} from the Kubernetes API (${what})${said}`, base);
  }
}

/** `list pods in namespace apps`, `get replicasets.apps web-7d in namespace apps`, `watch pods in all namespaces`. */
export function describeRequest(request: KubeRequest): string {
  const resource = rbacResource(request);
  const name = request.name === undefined ? '' : ` ${request.name}`;
  const where = request.namespace === undefined ? ' in all namespaces' : ` in namespace ${request.namespace}`;
  return `${request.verb} ${resource}${name}${where}`;
}

/** What the API server said in a Status body (JSON text or an object); empty when it said nothing usable. */
export function parseStatus(body: unknown): {
  message?: string;
  reason?: string;
  code?: number;
  /** `details.causes[].message`: why exactly (the PodDisruptionBudget that blocks an eviction…). */
  causes?: string[];
} {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.trim() ? { message: body.trim().slice(0, 300) } : {};
    }
  }
  if (typeof value !== 'object' || value === null) return {};
  const s = value as Record<string, unknown>;
  const details = (typeof s.details === 'object' && s.details !== null ? s.details : {}) as {
    causes?: unknown;
  };
  const causes = (Array.isArray(details.causes) ? details.causes : [])
    .map((c) => (c as { message?: unknown } | null)?.message)
    .filter((m): m is string => typeof m === 'string');
  return {
    ...(typeof s.message === 'string' ? { message: s.message } : {}),
    ...(typeof s.reason === 'string' ? { reason: s.reason } : {}),
    ...(typeof s.code === 'number' ? { code: s.code } : {}),
    ...(causes.length > 0 ? { causes } : {}),
  };
}

function rbacResource(request: KubeRequest): string {
  return request.group ? `${request.resource}.${request.group}` : request.resource;
}

/** The library's messages embed the whole URL and headers; keep the part that says why. */
function shortCause(error: unknown): string {
  const message = errorMessage(error);
  const reason = /reason: (.*)$/s.exec(message)?.[1];
  return (reason ?? message).split('\n')[0]!.slice(0, 200);
}
