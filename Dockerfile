# syntax=docker/dockerfile:1
# Loa: the API, the embedded MQTT broker and the speaker simulator, in one image.
#   docker build -t loa .
#   docker run --env-file .env -p 3000:3000 -p 1883:1883 loa
# Node 24 (LTS): Node 20 reached its end of life on 2026-04-30. CI runs the test suite on
# this major as well as on the machine's Node (.ci/run reads the major from this file).
# The project is ESM throughout.

FROM node:24-bookworm-slim AS build
WORKDIR /app
ENV CI=true
COPY package.json package-lock.json ./
# Install scripts are governed by "allowScripts" in package.json; none of the denied ones
# is needed to build or run Loa.
RUN npm ci --no-audit --no-fund
# The sources (src/, devices-sim/, bench/, data/, dashboard/); .dockerignore keeps out the rest.
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    MQTT_PORT=1883 \
    MEDIA_DIR=/app/var/media
WORKDIR /app
# Uploaded audio; owned by the user Loa runs as. Mount a volume here to keep it.
RUN mkdir -p /app/var/media && chown -R node:node /app/var
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# Demo area tree, loaded when SEED_DEMO_AREAS=true (found by walking up from dist/src/areas).
COPY --from=build --chown=node:node /app/data ./data
# The operators' dashboard (static files served at /, found by walking up from dist/src/dashboard).
COPY --from=build --chown=node:node /app/dashboard ./dashboard
USER node
EXPOSE 3000 1883
# Ready = Postgres, Redis and the MQTT listener all answer (GET /health/ready). No curl in slim.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/main.js"]
