# One image for every Tessera service and the API gateway; SERVICE chooses what it runs:
#   docker build --build-arg SERVICE=identity -t tessera-identity .   -> services/identity/src/server.ts
#   docker build --build-arg SERVICE=gateway  -t tessera-gateway  .   -> infra/gateway/src/server.ts
# The code runs from its TypeScript sources with tsx (no compile step), as the unprivileged `node` user.
# SERVICE can also be overridden at run time: the image holds the whole workspace.

FROM node:24-bookworm-slim AS install
RUN npm i -g pnpm@10
WORKDIR /app
# Dependencies first so that source changes do not invalidate them: `pnpm fetch` needs only the lockfile.
COPY pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
RUN pnpm fetch
COPY . .
# Dev dependencies are kept on purpose: tsx runs the sources.
RUN pnpm install --frozen-lockfile --offline
ARG SERVICE=gateway
RUN case "$SERVICE" in \
      gateway) entry=infra/gateway/src/server.ts ;; \
      *) entry="services/$SERVICE/src/server.ts" ;; \
    esac; \
    test -f "$entry" || { echo "SERVICE=$SERVICE: $entry does not exist" >&2; exit 1; }

# Runtime: the workspace with its node_modules, without pnpm's store.
FROM node:24-bookworm-slim
ARG SERVICE=gateway
ENV NODE_ENV=production \
    SERVICE=${SERVICE}
WORKDIR /app
COPY --from=install /app /app
USER node
# exec: node is PID 1 and receives SIGTERM itself (every server.ts shuts down gracefully on it).
CMD ["/bin/sh", "-c", "case \"$SERVICE\" in gateway) entry=infra/gateway/src/server.ts ;; *) entry=\"services/$SERVICE/src/server.ts\" ;; esac; exec node --import tsx \"$entry\""]
