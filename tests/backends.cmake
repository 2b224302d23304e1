# backends.cmake — each backend's conformance run against its real server.
# One errand_backend_test(...) per (test program, backend); see tests/CMakeLists.txt.
errand_backend_test(bus.amqp COMMAND test_bus FIXTURES rabbitmq
  ENV "ERRAND_TEST_BUS_URL=${ERRAND_TEST_AMQP_URL}"
      "ERRAND_TEST_RABBITMQ_SCRIPT=${CMAKE_CURRENT_SOURCE_DIR}/servers/rabbitmq.sh"
      "ERRAND_TEST_RABBITMQ_STATE=${CMAKE_BINARY_DIR}/servers/rabbitmq")
