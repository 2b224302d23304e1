# errand in a container: the same binary as on a laptop, for the headless
# server (`errand serve`, the default command) and for networked workers
# (`errand worker all`).  Point it at the shared backends with DATABASE_URL,
# RABBITMQ_URL and REDIS_URL; without them it runs on SQLite in /var/lib/errand.
#
#   docker build -t errand .
#   docker run --rm -p 8080:8080 -e OPENAI_API_KEY errand
#   docker run --rm -e DATABASE_URL=… -e RABBITMQ_URL=… -e REDIS_URL=… errand worker all
#   docker run --rm -it errand ask "hello"            one request (offline without a key)
#
# Two stages: the build needs compilers and -dev packages; the image that runs
# keeps only the shared libraries errand links or loads when a run needs them
# (libcurl, libpq, librabbitmq, libmicrohttpd and libcrypto are dlopen()ed, as
# are the data agent's libzip, libxml2, libcairo and libfontconfig).

FROM debian:12-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      cmake make gcc libc6-dev pkg-config \
      libsqlite3-dev libcurl4-openssl-dev libcjson-dev libncurses-dev libreadline-dev \
      libhiredis-dev librabbitmq-dev libpq-dev libmicrohttpd-dev libssl-dev \
      libzip-dev libxml2-dev libcairo2-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY include include
COPY src src
COPY tui tui
COPY server server
COPY man man
COPY bench bench
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
 && cmake --build /build -j"$(nproc)" --target errand \
 && cmake --install /build --prefix /opt/errand --strip \
 && /opt/errand/bin/errand --version

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libsqlite3-0 libcurl4 libcjson1 libncursesw6 libtinfo6 libreadline8 \
      libhiredis0.14 librabbitmq4 libpq5 libmicrohttpd12 libssl3 \
      libzip4 libxml2 libcairo2 libfontconfig1 \
      ca-certificates bubblewrap tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/errand --shell /usr/sbin/nologin errand
COPY --from=build /opt/errand/ /usr/local/
USER errand
WORKDIR /var/lib/errand
# XDG paths inside the volume, so the SQLite database, history and config
# survive the container.
ENV XDG_DATA_HOME=/var/lib/errand/data \
    XDG_STATE_HOME=/var/lib/errand/state \
    XDG_CONFIG_HOME=/var/lib/errand/config \
    ERRAND_LISTEN=0.0.0.0:8080
VOLUME ["/var/lib/errand"]
EXPOSE 8080
# tini reaps the sandbox's children and passes SIGTERM on, so `docker stop`
# drains the server or worker cleanly.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/errand"]
CMD ["serve"]
