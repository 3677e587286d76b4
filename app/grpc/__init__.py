"""The platform gateway's gRPC transport: the TypeScript original's `enclave.EnclaveService`, beside the REST
API (app/routers/) and as thin: every rule lives in app/services, so the two transports cannot drift apart.

Started by the app's lifespan only when ZKA_GRPC_PORT is set; nothing here (nor grpcio) is imported otherwise.
"""
