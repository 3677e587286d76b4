"""protoc output for app/grpc/proto/enclave.proto (`make grpc-stubs`); do not edit."""
