import { BadRequestException, ValidationPipe, type INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppConfig } from './config/app-config.js';

/** HTTP-level setup shared by main.ts and the e2e tests, so both serve the same app. */
export function configureApp(app: INestApplication): void {
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) =>
        new BadRequestException({
          error: 'validation',
          message: errors.flatMap((e) => flattenErrors(e.property, e)),
        }),
    }),
  );
  app.enableShutdownHooks();
  // Client IPs (login throttling) come from X-Forwarded-For only behind a proxy we run.
  app.getHttpAdapter().getInstance().set('trust proxy', app.get(AppConfig).TRUST_PROXY === 'true');
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Loa API')
      .setDescription('Smart grassroots loudspeakers: areas, devices, liveness')
      .setVersion('1')
      .addBearerAuth()
      .addSecurityRequirements('bearer')
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document);
}

interface NestedError {
  property: string;
  constraints?: Record<string, string>;
  children?: NestedError[];
}

function flattenErrors(path: string, error: NestedError): string[] {
  const own = Object.values(error.constraints ?? {}).map((m) => (path === error.property ? m : `${path}: ${m}`));
  const nested = (error.children ?? []).flatMap((c) => flattenErrors(`${path}.${c.property}`, c));
  return [...own, ...nested];
}
