import { Catch, HttpException, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';

/** 429 for a throttled login; the filter below adds the Retry-After header it carries. */
export class TooManyAttemptsException extends HttpException {
  constructor(readonly retryAfterS: number) {
    super(
      { error: 'too-many-attempts', message: `too many failed logins; try again in ${retryAfterS} s`, retryAfterS },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

interface HeaderResponse {
  setHeader(name: string, value: string): void;
  status(code: number): { json(body: unknown): void };
}

@Catch(TooManyAttemptsException)
export class TooManyAttemptsFilter implements ExceptionFilter {
  catch(exception: TooManyAttemptsException, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<HeaderResponse>();
    response.setHeader('Retry-After', String(exception.retryAfterS));
    response.status(exception.getStatus()).json(exception.getResponse());
  }
}
