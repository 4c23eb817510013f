# One image, every role: `gateway`, `worker`, `all`, `migrate` (first argument or ROLE).
# Multi-stage: build with dev dependencies, ship only production dependencies and the bundled app (dist/gateway.mjs).

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY adapters ./adapters
COPY scripts/build.ts ./scripts/build.ts
# Type-checks, then bundles the app into one module (scripts/build.ts says what stays in node_modules and why).
RUN npm run build

FROM node:24-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Production dependencies only (embedded Postgres and the test tools stay out of the image).
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY --from=prod-deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node migrations ./migrations
# Files the app reads at run time, from its folder (src/core/app-root.ts): Redis scripts, the web chat.
COPY --chown=node:node src/core/scripts ./src/core/scripts
COPY --chown=node:node src/api/web ./src/api/web
COPY --chown=node:node adapters/slack/manifest.yaml ./adapters/slack/manifest.yaml
# The offline memory embedder's word vectors (~4.5 MB).
COPY --chown=node:node src/memory/embed/data ./src/memory/embed/data
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Stack traces name the bundle's lines; NODE_OPTIONS=--enable-source-maps maps them to the TypeScript (dist/gateway.mjs.map),
# at the cost of ~130 MB and ~0.6 s of start-up per process.
ENTRYPOINT ["node", "dist/gateway.mjs"]
CMD ["all"]
