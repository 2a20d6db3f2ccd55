import type { ApiErrorCode } from './contract.js';

/**
 * An error the API reports to its caller as it is: the code picks the HTTP
 * status, the message is shown in the renderer where the data would be.
 * Any other error thrown by a service is reported with code 'failed'.
 */
export class ApiError extends Error {
  readonly code: ApiErrorCode;

  constructor(code: ApiErrorCode, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }
}
