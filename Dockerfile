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
# (libcurl, libpq, librabbitmq, libmicrohttpd, libcrypto and libxml2 are
# dlopen()ed, as are the data agent's libzip, libcairo and libfontconfig, and
# the email agent's GMime, and libsodium for stored secrets).
# PDFs are read by poppler's pdftotext when it is installed.
#
# Two volumes, never one inside the other: /var/lib/errand holds errand's own
# files (the database, the token-signing key, config and state), /srv/errand
# the workspaces (each server user's own under /srv/errand/users).  errand
# refuses to start when a workspace holds its files, and its tools refuse
# them wherever they are.  `run`, `test` and `lint` need bubblewrap to work in
# the container (user namespaces; e.g. --security-opt seccomp=unconfined
# --security-opt apparmor=unconfined); where it cannot, the server's tasks
# do not run commands at all (sandbox.fallback).

# The web interface (web/): built with Node.js 22 from the committed
# lockfile; only its static files reach the image.
FROM node:22-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN npm run build

FROM debian:12-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      cmake make gcc libc6-dev pkg-config \
      libsqlite3-dev libcurl4-openssl-dev libcjson-dev libncurses-dev libreadline-dev libpcre2-dev \
      libhiredis-dev librabbitmq-dev libpq-dev libmicrohttpd-dev libssl-dev \
      libzip-dev libxml2-dev libcairo2-dev libcivetweb-dev libgmime-3.0-dev libsodium-dev \
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
      libsqlite3-0 libcurl4 libcjson1 libncursesw6 libtinfo6 libreadline8 libpcre2-8-0 \
      libhiredis0.14 librabbitmq4 libpq5 libmicrohttpd12 libssl3 \
      libzip4 libxml2 libcairo2 libfontconfig1 libcivetweb1 libgmime-3.0-0 libsodium23 \
      ca-certificates bubblewrap tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /home/errand --shell /usr/sbin/nologin errand \
 && install -d -o errand -g errand -m 0700 /var/lib/errand /srv/errand /srv/errand/users \
      /srv/errand/work
# Optional: the browsers the browser agent drives, for the browser worker's
# image only — `chromium` (DevTools protocol), `true` for Chromium and
# Firefox ESR (WebDriver BiDi), or `all` for those and WebKitGTK
# (webkit2gtk-driver with Xvfb, browser.engine=webkit); fonts for readable
# screenshots either way.
# They add about 654 MiB and 928 MiB to the image's 107 MiB (measured from
# Debian's packages: deploy/README.md).
#   docker build --build-arg WITH_BROWSERS=true -t errand-browsers .
ARG WITH_BROWSERS=false
RUN case "$WITH_BROWSERS" in \
      false) browsers= ;; \
      chromium) browsers="chromium" ;; \
      true) browsers="chromium firefox-esr" ;; \
      all) browsers="chromium firefox-esr webkit2gtk-driver xvfb" ;; \
      *) echo "WITH_BROWSERS must be false, chromium, true or all, not '$WITH_BROWSERS'" >&2; exit 1 ;; \
    esac \
 && if [ -n "$browsers" ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends $browsers fonts-liberation \
      && rm -rf /var/lib/apt/lists/*; \
    fi
COPY --from=build /opt/errand/ /usr/local/
# errand serve's default server.web_root (the build's install prefix).
COPY --from=web /web/dist/ /usr/local/share/errand/web/
USER errand
# The workspace of one-off commands (docker run -it errand ask …).
WORKDIR /srv/errand/work
# errand's XDG paths in their volume, so the SQLite database, the signing key,
# history and config survive the container; the users' workspaces in theirs.
ENV XDG_DATA_HOME=/var/lib/errand/data \
    XDG_STATE_HOME=/var/lib/errand/state \
    XDG_CONFIG_HOME=/var/lib/errand/config \
    ERRAND_WORKSPACES=/srv/errand/users \
    ERRAND_LISTEN=0.0.0.0:8080
VOLUME ["/var/lib/errand", "/srv/errand"]
EXPOSE 8080
# tini reaps the sandbox's children and passes SIGTERM on, so `docker stop`
# drains the server or worker cleanly.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/errand"]
CMD ["serve"]
