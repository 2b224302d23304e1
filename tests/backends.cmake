# backends.cmake — each backend's conformance run against its real server.
# One errand_backend_test(...) per (test program, backend); see tests/CMakeLists.txt.
