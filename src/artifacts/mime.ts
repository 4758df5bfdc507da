/** Media types from file names, through the `mime` package's standard table. */
import mime from 'mime/lite';

export const DEFAULT_MIME = 'application/octet-stream';

export function mimeFor(fileName: string): string {
  return mime.getType(fileName) ?? DEFAULT_MIME;
}
