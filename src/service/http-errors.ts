/**
 * Errors raised before a route handler runs, answered in Inngest's shape
 * `{ "error": message, "data": null, "status": code }` like every other error of the service:
 *
 * - by Node's HTTP parser, before fastify sees a request (`clientError`): a malformed request
 *   line or header (400), headers over the size limit (431), a request that took too long (408);
 * - by fastify's router (`frameworkErrors`): a path whose percent-encoding does not decode (400),
 *   a path parameter over the length limit (414).
 *
 * No message repeats the request: it says what is wrong, not what was sent.
 *
 * @module
 */
import type { Socket } from "node:net";
import { STATUS_CODES } from "node:http";

/** Inngest's error body. */
export interface ErrorBody {
  readonly error: string;
  readonly data: unknown;
  readonly status: number;
}

/** What Node's HTTP parser reports, by its error code. */
const PARSER_ERRORS: Readonly<Record<string, string>> = {
  HPE_INVALID_METHOD: "the request method is not valid",
  HPE_INVALID_URL: "the request target is not valid",
  HPE_INVALID_VERSION: "the HTTP version is not valid",
  HPE_INVALID_CONSTANT: "the request line is malformed",
  HPE_LF_EXPECTED: "a line does not end in CRLF",
  HPE_CR_EXPECTED: "a line does not end in CRLF",
  HPE_INVALID_HEADER_TOKEN: "a header is malformed",
  HPE_UNEXPECTED_SPACE: "a header is malformed",
  HPE_INVALID_CONTENT_LENGTH: "Content-Length is not valid",
  HPE_UNEXPECTED_CONTENT_LENGTH: "Content-Length and Transfer-Encoding are both given",
  HPE_INVALID_TRANSFER_ENCODING: "Transfer-Encoding is not valid",
  HPE_INVALID_CHUNK_SIZE: "the chunked body is malformed",
  HPE_CHUNK_EXTENSIONS_OVERFLOW: "the chunked body is malformed",
};

/** The status and message of an error Node's HTTP parser raised. */
export function clientErrorAnswer(code: string | undefined): ErrorBody {
  if (code === "HPE_HEADER_OVERFLOW") return { error: "Request header fields too large: the request line and headers exceed the server's limit", data: null, status: 431 };
  if (code === "ERR_HTTP_REQUEST_TIMEOUT" || code === "ERR_HTTP_HEADERS_TIMEOUT") return { error: "Request timeout: the request was not received in time", data: null, status: 408 };
  const what = (code !== undefined ? PARSER_ERRORS[code] : undefined) ?? "the request is not valid HTTP/1.1";
  return { error: `Bad request: ${what}`, data: null, status: 400 };
}

/**
 * fastify's `clientErrorHandler`: answers an error of Node's HTTP parser in Inngest's shape on the
 * raw socket (there is no request or reply yet), then closes the connection, as Node itself does.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection, or one already closed: nobody to answer.
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  if (socket.writable) {
    const answer = clientErrorAnswer(error.code);
    const body = JSON.stringify(answer);
    socket.write(
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? "Error"}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** The status and message of an error fastify's router raised before routing (`frameworkErrors`). */
export function frameworkErrorAnswer(error: Error & { code?: string }): ErrorBody {
  if (error.code === "FST_ERR_BAD_URL") return { error: "Bad request: the path is not valid percent-encoded UTF-8", data: null, status: 400 };
  if (error.code === "FST_ERR_MAX_PARAM_LENGTH") return { error: "URI too long: a path segment is longer than the server accepts", data: null, status: 414 };
  return { error: "Bad request: the request could not be routed", data: null, status: 400 };
}
