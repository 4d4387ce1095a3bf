# ordergraph in a container: built in one stage, run in a slim one as a
# user without privileges, the data directory a volume.
#
#   docker build -t ordergraph .
#   docker run -d -p 7878:7878 -p 5433:5433 -p 32010:32010 -v ordergraph-data:/var/lib/ordergraph ordergraph
#
# See docs/deployment.md.

FROM rust:1.92-bookworm AS build
WORKDIR /src
COPY . .
# The production build: no generators (`--no-default-features`).
RUN cargo build --release --locked --workspace --no-default-features --bins \
    && install -m 0755 target/release/ordergraph /usr/local/bin/ordergraph

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/ordergraph --shell /usr/sbin/nologin ordergraph \
    && install -d -o ordergraph -g ordergraph -m 0750 /var/lib/ordergraph
COPY --from=build /usr/local/bin/ordergraph /usr/local/bin/ordergraph
USER ordergraph
VOLUME /var/lib/ordergraph
ENV ORDERGRAPH_DATA=/var/lib/ordergraph \
    ORDERGRAPH_LISTEN=0.0.0.0:7878 \
    ORDERGRAPH_PG_LISTEN=0.0.0.0:5433 \
    ORDERGRAPH_FLIGHT_LISTEN=0.0.0.0:32010 \
    ORDERGRAPH_LOG_FORMAT=json
EXPOSE 7878 5433 32010
# SIGTERM: finish requests in flight, then write a checkpoint.
STOPSIGNAL SIGTERM
ENTRYPOINT ["ordergraph"]
CMD ["serve"]
