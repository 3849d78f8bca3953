# Reef container image. Reef runs its TypeScript sources directly through tsx (a runtime dependency),
# so there is no build step: one stage installs the production dependencies, the final one adds the app.
#
#   docker build -t reef .
#   docker run --rm -e REDIS_URL=redis://my-redis:6379 -p 127.0.0.1:3000:3000 reef
#   docker run --rm reef check --once        # any `reef` subcommand replaces the default `start`
#
# docker-compose.yml runs it next to a Redis.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package*.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    REEF_HTTP_HOST=0.0.0.0 \
    REEF_HTTP_PORT=3000 \
    REEF_DATA_DIR=/data
WORKDIR /app

# git: Reef's memory (incident notes, Brainstorm reports) is a git repository it commits to. Tools that
# some runbook steps run on Reef's own machine (ansible-playbook, terraform) are not in this image:
# extend it (FROM reef) when your runbooks use them there.
RUN apt-get update \
  && apt-get install -y --no-install-recommends git ca-certificates \
  && rm -rf /var/lib/apt/lists/*

# The application stays owned by root (read-only for the `node` user); only /data is writable.
COPY --from=deps /app/node_modules ./node_modules
COPY package*.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY examples ./examples
COPY schema ./schema
COPY runbooks ./runbooks
# /data/memory is Reef's git memory (its own volume in docker-compose.yml).
RUN mkdir -p /data/memory && chown -R node:node /data

# Declared after the chown, so a new named volume starts out owned by `node`.
VOLUME ["/data"]
USER node
EXPOSE 3000

# The slim image has no curl: ask Node itself. /healthz answers 200 when healthy, 503 when not.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.REEF_HTTP_PORT || 3000) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["node", "bin/reef.js"]
CMD ["start"]
