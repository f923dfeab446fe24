# syntax=docker/dockerfile:1
# Sluice container image: a static binary on distroless, run as a non-root
# user. Build: make docker (or docker build --build-arg VERSION=v1.2.3 .).
# The Go version must match go.mod's go line (deploy/check tests it).
ARG GO_VERSION=1.26.8

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY cmd ./cmd
COPY internal ./internal
ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
# CGO off: the SQLite driver (modernc.org/sqlite) and everything else are
# pure Go, so the binary needs no libc.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath \
      -ldflags "-s -w -X github.com/sluicehq/sluice/internal/version.Version=${VERSION}" \
      -o /out/sluice ./cmd/sluice
# The data directory, created here because the final image has no shell.
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="sluice" \
      org.opencontainers.image.description="Sluice, a self-hosted AI gateway" \
      org.opencontainers.image.source="https://github.com/sluicehq/sluice" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/sluice /sluice
COPY deploy/docker/sluice.yaml /etc/sluice/sluice.yaml
# SQLite database and request-log spool (server.data_dir).
COPY --from=build --chown=65532:65532 /out/data /var/lib/sluice
# distroless "nonroot": uid and gid 65532, CA certificates and tzdata included.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/sluice", "serve", "--config", "/etc/sluice/sluice.yaml"]
