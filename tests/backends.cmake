# backends.cmake — each backend's conformance run against its real server.
# One errand_backend_test(...) per (test program, backend); see tests/CMakeLists.txt.
# Suites that restart their server take its RESOURCE_LOCK and are listed in
# ERRAND_TEST_RESTARTERS (tests/CMakeLists.txt); the tests that share a server
# with them wait for them (DEPENDS).

# Cache: the Redis backend.  The suite restarts the server (stop + start with the
# same state dir) to check reconnection, hence the script path, state dir and lock.
if(ERRAND_WITH_REDIS)
  errand_backend_test(cache.redis COMMAND test_cache FIXTURES redis
    ENV "ERRAND_TEST_CACHE_URL=${ERRAND_TEST_REDIS_URL}"
        "ERRAND_TEST_REDIS_SCRIPT=${CMAKE_CURRENT_SOURCE_DIR}/servers/redis.sh"
        "ERRAND_TEST_REDIS_STATE=${CMAKE_BINARY_DIR}/servers/redis")
  set_tests_properties(backend.cache.redis PROPERTIES RESOURCE_LOCK redis)
endif()

# Bus: the RabbitMQ backend; the suite restarts the broker's app.
if(ERRAND_WITH_AMQP)
  errand_backend_test(bus.amqp COMMAND test_bus FIXTURES rabbitmq
    ENV "ERRAND_TEST_BUS_URL=${ERRAND_TEST_AMQP_URL}"
        "ERRAND_TEST_RABBITMQ_SCRIPT=${CMAKE_CURRENT_SOURCE_DIR}/servers/rabbitmq.sh"
        "ERRAND_TEST_RABBITMQ_STATE=${CMAKE_BINARY_DIR}/servers/rabbitmq")
  set_tests_properties(backend.bus.amqp PROPERTIES RESOURCE_LOCK rabbitmq)
  # Again with quorum queues (bus.queue_type=quorum), in the vhost the fixture
  # makes for them: a queue keeps the type it was declared with.
  errand_backend_test(bus.amqp.quorum COMMAND test_bus FIXTURES rabbitmq
    ENV "ERRAND_TEST_BUS_URL=amqp://guest:guest@127.0.0.1:${ERRAND_TEST_AMQP_PORT}/quorum?queue_type=quorum"
        "ERRAND_TEST_RABBITMQ_SCRIPT=${CMAKE_CURRENT_SOURCE_DIR}/servers/rabbitmq.sh"
        "ERRAND_TEST_RABBITMQ_STATE=${CMAKE_BINARY_DIR}/servers/rabbitmq")
  set_tests_properties(backend.bus.amqp.quorum PROPERTIES RESOURCE_LOCK rabbitmq)
endif()

# Store: the conformance suite against a real PostgreSQL (tests/servers/postgres.sh).
if(ERRAND_WITH_POSTGRES)
  errand_backend_test(store.postgres COMMAND test_store FIXTURES postgres
                      ENV "ERRAND_TEST_DATABASE_URL=${ERRAND_TEST_PG_URL}")
  # Shared memory (tsvector full text, bytea vectors) on the same server.
  errand_backend_test(memory.postgres COMMAND test_memory FIXTURES postgres
                      ENV "ERRAND_TEST_DATABASE_URL=${ERRAND_TEST_PG_URL}")
endif()

# The API tests (tests/e2e/t_api_*.sh) once more in networked mode: PostgreSQL,
# Redis and RabbitMQ through the ERRAND_E2E_* URLs that tests/e2e/lib.sh reads;
# api_lib.sh starts an `errand worker all` next to the server.  Each runs in a
# slot of its own (lib.sh's claim_slot: a vhost and a Redis database), so they
# run side by side, after the suites that restart those servers.
if(ERRAND_WITH_POSTGRES AND ERRAND_WITH_REDIS AND ERRAND_WITH_AMQP)
  file(GLOB API_E2E CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/e2e/t_api_*.sh)
  foreach(src IN LISTS API_E2E)
    get_filename_component(name ${src} NAME_WE)
    string(REGEX REPLACE "^t_" "" name ${name})
    errand_backend_test(e2e.${name}.networked COMMAND bash ${src}
      FIXTURES "postgres;redis;rabbitmq"
      ENV "ERRAND=$<TARGET_FILE:errand>" "ERRAND_BUILD=${CMAKE_BINARY_DIR}"
          "ERRAND_TESTS=${CMAKE_CURRENT_SOURCE_DIR}" "ERRAND_SRC=${CMAKE_SOURCE_DIR}"
          "ERRAND_E2E_DATABASE_URL=${ERRAND_TEST_PG_URL}"
          "ERRAND_E2E_REDIS_URL=${ERRAND_TEST_REDIS_URL}"
          "ERRAND_E2E_RABBITMQ_URL=${ERRAND_TEST_AMQP_URL}")
    set_tests_properties(backend.e2e.${name}.networked PROPERTIES DEPENDS "${ERRAND_TEST_RESTARTERS}")
  endforeach()
endif()

# The mail tools against Dovecot (IMAP) and OpenSMTPD delivering into its
# Maildirs (tests/servers/dovecot.sh); the mail e2e tests need them too.  The
# tests read the delivered files and wait for OpenSMTPD's queue to drain
# (dovecot.sh settle) before counting what arrived.
set(ERRAND_MAIL_TEST_ENV "ERRAND_TEST_MAIL_SERVERS=1"
  "ERRAND_TEST_SERVERS=${CMAKE_CURRENT_SOURCE_DIR}/servers"
  "ERRAND_TEST_MAIL_STATE=${CMAKE_BINARY_DIR}/servers/dovecot")
errand_backend_test(mail.imap COMMAND test_mail FIXTURES dovecot
  ENV ${ERRAND_MAIL_TEST_ENV})
set_tests_properties(backend.mail.imap PROPERTIES RESOURCE_LOCK dovecot)
# The metadata cache networked: in Redis (database 12, past the networked
# e2e slots 1-8, emptied by the test), over erin's mailbox, with other
# processes listing from it.
if(ERRAND_WITH_REDIS)
  string(REGEX REPLACE "/0$" "/12" ERRAND_TEST_MAIL_REDIS_URL "${ERRAND_TEST_REDIS_URL}")
  errand_backend_test(mail.imap.redis COMMAND test_mail FIXTURES "dovecot;redis"
    ENV ${ERRAND_MAIL_TEST_ENV} "ERRAND_TEST_MAIL_REDIS_URL=${ERRAND_TEST_MAIL_REDIS_URL}")
  set_tests_properties(backend.mail.imap.redis PROPERTIES RESOURCE_LOCK dovecot
    DEPENDS "${ERRAND_TEST_RESTARTERS}")
  # Gmail's mailbox-wide cache networked, against the fake Gmail (database 13).
  string(REGEX REPLACE "/0$" "/13" ERRAND_TEST_GMAIL_REDIS_URL "${ERRAND_TEST_REDIS_URL}")
  errand_backend_test(mail.gmail.redis COMMAND test_gmail_mail FIXTURES redis
    ENV "ERRAND_TEST_MAIL_REDIS_URL=${ERRAND_TEST_GMAIL_REDIS_URL}" "ERRAND_HTTP=curl"
        "ERRAND_TEST_FIXTURES=${CMAKE_CURRENT_SOURCE_DIR}/fixtures")
  set_tests_properties(backend.mail.gmail.redis PROPERTIES DEPENDS "${ERRAND_TEST_RESTARTERS}")
endif()
errand_backend_test(mail.imap_wire COMMAND test_imap_wire FIXTURES dovecot
  ENV ${ERRAND_MAIL_TEST_ENV})
set_tests_properties(backend.mail.imap_wire PROPERTIES RESOURCE_LOCK dovecot)
errand_backend_test(e2e.mail_injection COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/t_mail_injection.sh
  FIXTURES dovecot ENV ${ERRAND_MAIL_TEST_ENV} ${E2E_ENV})
set_tests_properties(backend.e2e.mail_injection PROPERTIES RESOURCE_LOCK dovecot)
errand_backend_test(e2e.mail_draft COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/t_mail_draft.sh
  FIXTURES dovecot ENV ${ERRAND_MAIL_TEST_ENV} ${E2E_ENV})
set_tests_properties(backend.e2e.mail_draft PROPERTIES RESOURCE_LOCK dovecot)
