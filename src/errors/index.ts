export { errorCatalog, type ErrorCode, type ErrorSpec } from './catalog.js';
export { TsswarmError, isTsswarmError, errorMessage, type ErrorDetails } from './tsswarm-error.js';
