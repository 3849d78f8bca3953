import type Anthropic from '@anthropic-ai/sdk';

type Sdk = typeof import('@anthropic-ai/sdk');

/**
 * The Anthropic Messages API as a port: the only file that imports the SDK. The diagnoser asks for
 * one forced tool call and gets back the content blocks, the stop reason and the token usage;
 * tests point `baseUrl` at a local server speaking the same wire format. Every failure comes back
 * as an `AnthropicCallError` whose `kind` says what happened (timeout, rate limit, overload, …).
 * The SDK is imported on the first call, so a Reef without ANTHROPIC_API_KEY never loads it.
 */

export const DEFAULT_ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

export interface AnthropicTool {
  name: string;
  description: string;
  /** A JSON Schema object (`type: 'object'`). */
  inputSchema: { type: 'object'; [key: string]: unknown };
}

export interface AnthropicRequest {
  model: string;
  maxTokens: number;
  system: string;
  /** The user turn. */
  prompt: string;
  /** The one tool the model must call to answer. */
  tool: AnthropicTool;
}

/** The parts of a content block the diagnoser reads; anything else is kept as its `type` only. */
export type AnthropicBlock =
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'text'; text: string }
  | { type: string };

export interface AnthropicReply {
  model: string;
  stopReason: string | null;
  content: AnthropicBlock[];
  usage: { inputTokens: number; outputTokens: number };
}

export type AnthropicFailure =
  | 'timeout'
  | 'rate-limited'
  | 'overloaded'
  | 'server-error'
  | 'auth'
  | 'bad-request'
  | 'unreachable';

/** A call that produced no usable reply, with what the operator can do about it. */
export class AnthropicCallError extends Error {
  constructor(
    readonly kind: AnthropicFailure,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'AnthropicCallError';
  }
}

export interface AnthropicPort {
  createMessage(request: AnthropicRequest): Promise<AnthropicReply>;
}

export interface AnthropicPortOptions {
  apiKey: string;
  baseUrl?: string;
  /** Deadline for the whole call, retries and `retry-after` waits included. */
  timeoutMs: number;
  /** Retries on 408, 409, 429, 5xx and 529, as the SDK does them. */
  maxRetries: number;
}

/** `ANTHROPIC_API_KEY` from the given environment; undefined when unset or blank. */
export function anthropicKeyFrom(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const key = env.ANTHROPIC_API_KEY?.trim();
  return key ? key : undefined;
}

function failureOf(sdk: Sdk, error: unknown): AnthropicCallError {
  const { APIConnectionTimeoutError, APIError, APIUserAbortError } = sdk;
  if (error instanceof AnthropicCallError) return error;
  if (error instanceof APIConnectionTimeoutError || error instanceof APIUserAbortError)
    return new AnthropicCallError('timeout', 'the Anthropic API did not answer before the deadline');
  if (error instanceof APIError && typeof error.status === 'number') {
    const detail = error.apiMessage ? `: ${error.apiMessage}` : '';
    const status = error.status;
    if (status === 401 || status === 403)
      return new AnthropicCallError(
        'auth',
        `the Anthropic API refused the key (${status}${detail}); check ANTHROPIC_API_KEY`,
        status,
      );
    if (status === 429)
      return new AnthropicCallError(
        'rate-limited',
        `rate limited by the Anthropic API (429${detail})`,
        status,
      );
    if (status === 529)
      return new AnthropicCallError('overloaded', `the Anthropic API is overloaded (529${detail})`, status);
    if (status >= 500)
      return new AnthropicCallError('server-error', `the Anthropic API failed (${status}${detail})`, status);
    return new AnthropicCallError(
      'bad-request',
      `the Anthropic API rejected the request (${status}${detail})`,
      status,
    );
  }
  if (error instanceof APIError)
    return new AnthropicCallError('unreachable', `the Anthropic API is unreachable (${error.message})`);
  return new AnthropicCallError('unreachable', error instanceof Error ? error.message : String(error));
}

function blockOf(block: { type: string }): AnthropicBlock {
  if (block.type === 'tool_use' && 'name' in block && 'input' in block && 'id' in block)
    return { type: 'tool_use', id: String(block.id), name: String(block.name), input: block.input };
  if (block.type === 'text' && 'text' in block) return { type: 'text', text: String(block.text) };
  return { type: block.type };
}

/** A port over the real SDK. The key is passed explicitly: the SDK reads no other credential source. */
export function createAnthropicPort(options: AnthropicPortOptions): AnthropicPort {
  let loaded: Promise<{ sdk: Sdk; client: Anthropic }> | undefined;
  const load = () =>
    (loaded ??= import('@anthropic-ai/sdk').then((sdk) => ({
      sdk,
      client: new sdk.Anthropic({
        apiKey: options.apiKey,
        baseURL: options.baseUrl ?? DEFAULT_ANTHROPIC_BASE_URL,
        timeout: options.timeoutMs,
        maxRetries: options.maxRetries,
        logLevel: 'off',
        openTelemetry: false,
      }),
    })));
  return {
    async createMessage(request) {
      const { sdk, client } = await load();
      try {
        const message = await client.messages.create(
          {
            model: request.model,
            max_tokens: request.maxTokens,
            system: request.system,
            messages: [{ role: 'user', content: request.prompt }],
            tools: [
              {
                name: request.tool.name,
                description: request.tool.description,
                input_schema: request.tool.inputSchema,
                strict: true,
              },
            ],
            tool_choice: { type: 'tool', name: request.tool.name, disable_parallel_tool_use: true },
          },
          { signal: AbortSignal.timeout(options.timeoutMs) },
        );
        return {
          model: message.model,
          stopReason: message.stop_reason,
          content: message.content.map(blockOf),
          usage: { inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens },
        };
      } catch (error) {
        throw failureOf(sdk, error);
      }
    },
  };
}
