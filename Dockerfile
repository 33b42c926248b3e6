# tsswarm as a container image. The daemon programs the host's kernel (namespaces, links,
# nftables) and runs tasks, so it needs root, the host's network and PID namespaces, and its
# state and run directories from the host:
#   docker build -t tsswarm .
#   docker run -d --name tsswarm --privileged --network host --pid host \
#     -v /var/lib/tsswarm:/var/lib/tsswarm -v /run/tsswarm:/run/tsswarm \
#     -v /var/run/docker.sock:/var/run/docker.sock tsswarm
#   docker exec tsswarm tsswarm init --advertise-addr HOST_ADDR
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --no-audit --no-fund
COPY proto ./proto
COPY src ./src
# tsconfig compiles the benchmarks and tests too; they are dropped from the final image.
COPY bench ./bench
COPY test ./test
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 nftables util-linux procps \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/tsswarm
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/proto ./proto
COPY --from=build /src/dist/src ./dist/src
RUN ln -s /opt/tsswarm/dist/src/cli/main.js /usr/local/bin/tsswarm && chmod +x dist/src/cli/main.js
ENTRYPOINT ["tsswarm"]
CMD ["daemon"]
