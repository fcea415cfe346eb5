# Image of the chuting server: `docker build -t chuting .`, or `docker compose up` with the
# docker-compose.yml beside this file. cmd/chuting/compose_test.go checks this file.

# Build stage. The tag pins the Go minor version (1.26, as go.mod asks); patch releases come in
# with a rebuild.
FROM golang:1.26-bookworm AS build
WORKDIR /src

# Modules first, as their own layer: it is rebuilt only when go.mod or go.sum change, not on
# every source edit.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
# CGO_ENABLED=0 gives a static binary, which the distroless/static image needs (it has no libc).
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/chuting ./cmd/chuting

# The data folder must exist and belong to the nonroot user before a volume is mounted on it
# (Docker copies the image folder's owner into a new named volume). Distroless has no shell
# to run mkdir/chown in, so the folder is made here and copied over with --chown.
RUN mkdir -p /out/data

# Final stage: no shell, no package manager; it holds CA certificates and tzdata (hearing
# times are zoned) and the user nonroot (65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/chuting /chuting
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data

# Listen on every interface inside the container (the serve default, 127.0.0.1, is unreachable
# through a published port), and keep the data in the /data volume.
ENV CHUTING_ADDR=0.0.0.0:8080 CHUTING_DATA=/data

# HTTP API, web UI and WebSocket signaling. Later issues add the UDP/TCP media ports (ICE/TURN).
EXPOSE 8080

USER 65532:65532

# No HEALTHCHECK: it needs a program to run in the container, and distroless has no shell or
# curl, and the binary has no `chuting healthcheck` subcommand yet. Add one here (and in
# docker-compose.yml) when that subcommand exists.
ENTRYPOINT ["/chuting"]
CMD ["serve"]
