# syntax=docker/dockerfile:1
#
# truewatch-mock as a container image: a static binary (CGO_ENABLED=0) in
# a scratch image, run as an unprivileged user, listening on 0.0.0.0:8080.
#
#   docker build -t truewatch-mock .
#   docker run --rm -p 8080:8080 truewatch-mock
#
# Configure it through the environment (TRUEWATCH_MOCK_<FLAG>, see
# cmd/truewatch-mock), not through arguments: the HEALTHCHECK below sees
# the image's environment but not the container's arguments. Set
# TRUEWATCH_MOCK_PUBLIC_URL to the URL clients reach the container at when
# it is not http://localhost:8080. /data is the one writable directory
# (state files, the TLS CA):
#
#   docker run --rm -p 8443:8080 -v "$PWD/ca:/data" \
#     -e TRUEWATCH_MOCK_TLS=1 -e TRUEWATCH_MOCK_TLS_CA_OUT=/data/ca.pem \
#     -e TRUEWATCH_MOCK_PUBLIC_URL=https://localhost:8443 truewatch-mock
#
# cmd/truewatch-mock's TestImageRunsAsTheDockerfileSays builds and runs the
# binary as this file says (it reads this file), without Docker.

ARG GO_VERSION=1.25

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=0
RUN go build -trimpath -ldflags="-s -w" -o /out/truewatch-mock ./cmd/truewatch-mock
RUN mkdir -p /out/data

FROM scratch
# For a vendor service (TRUEWATCH_MOCK_VENDOR_URL) served over https with
# a public certificate; the mock's own CA is made at start.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/truewatch-mock /truewatch-mock
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
WORKDIR /data
ENV TRUEWATCH_MOCK_ADDR=0.0.0.0:8080 \
    TRUEWATCH_MOCK_PUBLIC_URL=http://localhost:8080
EXPOSE 8080/tcp
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 CMD ["/truewatch-mock", "healthcheck"]
ENTRYPOINT ["/truewatch-mock"]
