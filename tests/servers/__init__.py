"""Small local servers that speak providers' wire formats, for tests that drive the real SDKs.

Each server binds 127.0.0.1 on a free port. Use it from async tests with
`await server.start()` / `await server.stop()`, or from sync code (a subprocess test, a
sync SDK in the same thread) with `server.start_in_thread()` / `server.stop_thread()`.
"""
