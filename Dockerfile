# Skein: a multi-stage build to a slim runtime image.
#
#   docker build -t skein .
#   docker run -p 8080:8080 -v skein-data:/var/lib/skein \
#       -e SKEIN_DOMAIN=social.example skein
#
# Queries are checked at run time (sqlx::query, not the query! macros), so
# the build needs no database and no sqlx offline data.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Dependencies first, so that source changes reuse the cached layer.
COPY Cargo.toml Cargo.lock ./
# (Stubs for every target Cargo.toml names, the benchmarks included.)
RUN mkdir src benches && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && echo 'fn main() {}' > benches/federation.rs \
    && echo 'fn main() {}' > benches/timelines.rs \
    && echo 'fn main() {}' > benches/fanout.rs \
    && cargo build --release --locked \
    && rm -rf src benches
COPY config config
COPY migrations migrations
COPY templates templates
# Compiled into the binary: the default avatar and header, the web UI's
# stylesheet and script.
COPY static static
COPY benches benches
COPY src src
# Make sure cargo sees the real sources as newer than the placeholder build.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && strip target/release/skein

FROM debian:bookworm-slim
# ca-certificates: TLS to other servers. postgresql: the server binaries for
# the embedded default store, used only while SKEIN_DATABASE_URL is unset.
# ffmpeg: probing and transcoding video and audio uploads.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates postgresql ffmpeg \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/skein --create-home skein
COPY --from=build /src/target/release/skein /usr/local/bin/skein
COPY config/default.toml /etc/skein/default.toml
USER skein
WORKDIR /var/lib/skein
ENV SKEIN_DATA_DIR=/var/lib/skein \
    SKEIN_LISTEN=0.0.0.0:8080 \
    SKEIN_LOG__FORMAT=json
VOLUME ["/var/lib/skein"]
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["skein"]
CMD ["serve"]
