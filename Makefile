#  tscache - build, run and test.
#
#    make          build every binary into bin/
#    make programs the binaries only (no tests; the container image)
#    make run      install missing build deps and curl, build the binaries
#                  (not the tests), start the demo pipeline
#    make test     install missing test deps, build, run every suite of
#                  make test-asan (unit, contract, integration, end-to-end
#                  under ASan and UBSan), the pipeline test under valgrind
#                  and each fuzz target for 20 s; ends with "N passed, N
#                  failed"
#    make check    same as test without installing anything
#    make test-asan build with ASan + UBSan in build-asan/ and run every
#                  suite but fuzz against it (make asan: the same)
#    make memcheck the pipeline test with each daemon under valgrind
#    make fuzz     build the libFuzzer targets of fuzz/ in build-fuzz/ and run
#                  each FUZZ_SECONDS=20 (FUZZ_TARGETS=http proto ...)
#    make soak     the pipeline under load and worker kills for
#                  SOAK_SECONDS=60; checks nothing lost or leaked
#    make install  install the binaries, man pages, systemd units and
#                  example configs (PREFIX=/usr/local, DESTDIR; see below)
#    make uninstall
#    make clean
#    make V=1 ...  show full compiler command lines
#
#  Binaries: BIN/NAME is built from DIR/NAME.c plus every ts_*.c module of
#  DIR and its subfolders, and the common library (common/ and its
#  subfolders; the linker takes from it only the modules a binary uses).
#  Each binary links only the packages its modules use (PKGS_* below).
#  Unit tests: tests/unit/test_X.c links the objects listed in DEPS_test_X
#  (paths without .c).

#  Packages by module group. Every binary links PKGS_CORE (config, log,
#  wire protocol); the rest only where a module of the binary uses them.
PKGS_CORE    = libczmq libzmq msgpack yaml-0.1
PKGS_AWS     = libcurl libcrypto jansson  #  common/aws (the AWS backends)
#  common/store (and broker/queue); its DynamoDB backend: jansson and the
#  AWS plumbing's; its InfluxDB backend: zlib (gzipped writes).
PKGS_STORE   = lmdb $(PKGS_AWS) zlib
PKGS_FETCH   = libcurl              #  workers/ts_fetch
PKGS_MAP     = yajl                 #  common/ingest
#  gateway/ts_params (request bodies); gateway/ts_fresh (ETags: XXH3).
PKGS_GATEWAY = jansson libxxhash
PKGS_DEMO    = libmicrohttpd jansson
PKGS_METRICS = libmicrohttpd        #  common/ts_prom_http (metrics_port)
PKGS_broker  = $(PKGS_CORE) $(PKGS_STORE) $(PKGS_METRICS)
PKGS_worker  = $(PKGS_CORE) $(PKGS_STORE) $(PKGS_FETCH) $(PKGS_MAP) \
               $(PKGS_METRICS)
PKGS_gateway = $(PKGS_CORE) $(PKGS_STORE) $(PKGS_GATEWAY)
#  The CLI: source test fetches and maps as a worker does.
PKGS_cli     = $(PKGS_CORE) $(PKGS_FETCH) $(PKGS_MAP) jansson  #  jansson: ts_oauth2
PKGS_demo    = $(PKGS_CORE) $(PKGS_DEMO)
PKGS    = $(sort $(PKGS_CORE) $(PKGS_STORE) $(PKGS_FETCH) $(PKGS_MAP) \
                 $(PKGS_GATEWAY) $(PKGS_DEMO) $(PKGS_AWS))
pkglibs = $(shell pkg-config --libs $(1) 2>/dev/null) -lpthread -lm
BUILD  ?= build
BIN    ?= bin
CC     ?= cc
OPT    ?= -O2 -g
CFLAGS += $(OPT) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wno-unused-parameter \
          -Icommon -Icommon/store -Icommon/ingest -Icommon/aws \
          $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
#  Every package: unit tests and bench tools, which link modules of
#  several binaries.
LDLIBS += $(call pkglibs,$(PKGS)) -lhttp_parser
TEST_LDLIBS = $(shell pkg-config --libs cmocka 2>/dev/null)
ifeq ($(V),1)
Q =
say = @:
else
Q = @
say = @printf '  %-5s %s\n'
endif
ifeq ($(CI),true)
CFLAGS += -Werror
endif

#  One version for the project: VERSION, plus `git describe` in a git
#  checkout (a tarball from git archive has no .git and uses VERSION
#  alone). It reaches the code through $(BUILD)/gen/ts_version_gen.h,
#  rewritten only when the text changes (see common/ts_version.h).
TS_VERSION := $(strip $(shell cat VERSION 2>/dev/null))
ifneq ($(wildcard .git),)
TS_DESCRIBE := $(shell git describe --always --dirty 2>/dev/null)
endif
TS_VERSION := $(or $(TS_VERSION),unknown)$(if $(TS_DESCRIBE),+$(TS_DESCRIBE))

COMMON_OBJ  = $(patsubst %.c,$(BUILD)/%.o,$(wildcard common/*.c common/*/*.c))
ALL_MODS    = $(patsubst %.c,%,$(wildcard common/*.c common/*/*.c \
                  $(foreach d,broker workers gateway,$(d)/ts_*.c $(d)/*/ts_*.c)))
HEADERS     = $(wildcard common/*.h common/*/*.h broker/*.h broker/*/*.h \
                  workers/*.h workers/*/*.h gateway/*.h gateway/*/*.h tools/*.h \
                  bench/*.h)
LIB         = $(BUILD)/libtscache.a
mods        = $(patsubst %.c,$(BUILD)/%.o,$(wildcard $(1)/ts_*.c $(1)/*/ts_*.c))

PROGRAMS = $(BIN)/tscache-broker $(BIN)/tscache-worker $(BIN)/tscache-gateway \
           $(BIN)/tscache $(BIN)/tscache-demo-upstream
TESTS    = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c)) \
           $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/contract/test_*.c))

#  bench/storefill is also the e2e tests' store loader (test_http_large),
#  bench/dispatchload the workers of tests/integration/test_dispatch.
all: $(PROGRAMS) $(TESTS) $(BUILD)/bench/storefill $(BUILD)/bench/dispatchload

programs: $(PROGRAMS)

$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/gen/ts_version_gen.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define TS_VERSION "$(TS_VERSION)"' >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi
$(BUILD)/common/ts_version.o: $(BUILD)/gen/ts_version_gen.h
$(BUILD)/common/ts_version.o: CFLAGS += -I$(BUILD)/gen
FORCE:
#  The broker's own folders (the queue is the broker's alone).
$(BUILD)/broker/%.o: CFLAGS += -Ibroker/queue

$(LIB): $(COMMON_OBJ)
	@rm -f $@
	$(say) AR $@
	$(Q)$(AR) rcs $@ $^

$(BIN)/tscache-broker: $(BUILD)/broker/tscache-broker.o $(call mods,broker) $(LIB)
$(BIN)/tscache-worker: $(BUILD)/workers/tscache-worker.o $(call mods,workers) $(LIB)
#  The CLI's own modules (ts_cli_*) are the CLI's, not the gateway's.
CLI_MODS = $(patsubst %.c,$(BUILD)/%.o,$(wildcard gateway/ts_cli_*.c))
$(BIN)/tscache-gateway: $(BUILD)/gateway/tscache-gateway.o \
                        $(filter-out $(CLI_MODS),$(call mods,gateway)) $(LIB)
$(BIN)/tscache: $(BUILD)/gateway/tscache.o $(BUILD)/gateway/ts_json.o \
              $(BUILD)/gateway/ts_json_number.o $(CLI_MODS) $(LIB)
#  source test: the worker's request, fetch, pages and token modules.
CLI_WORKER_MODS = $(patsubst %,$(BUILD)/workers/%.o,ts_fetch ts_fetch_classify \
                      ts_url ts_pages ts_pages_scan ts_oauth2)
$(BIN)/tscache: $(CLI_WORKER_MODS)
$(BUILD)/gateway/ts_cli_source_test.o: CFLAGS += -Iworkers
#  The built-in page's files go into the object by .incbin (ts_ui.c).
$(BUILD)/gateway/ts_ui.o: $(wildcard gateway/ui/*)
$(BIN)/tscache-demo-upstream: $(BUILD)/tools/tscache-demo-upstream.o \
                              $(BUILD)/tools/ts_demo_shapes.o \
                              $(BUILD)/tools/tscache-demo-pages.o \
                              $(BUILD)/tools/ts_demo_auth.o \
                              $(BUILD)/tools/ts_demo_post.o \
                              $(BUILD)/tools/ts_demo_series.o \
                              $(BUILD)/tools/ts_demo_args.o $(LIB)
#  The demo's own modules.
$(BIN)/tscache-demo-upstream: $(BUILD)/tools/ts_demo_rate.o
$(BIN)/tscache-broker:        LINK_LIBS = $(call pkglibs,$(PKGS_broker))
$(BIN)/tscache-worker:        LINK_LIBS = $(call pkglibs,$(PKGS_worker))
$(BIN)/tscache-gateway:       LINK_LIBS = $(call pkglibs,$(PKGS_gateway)) -lhttp_parser
$(BIN)/tscache:               LINK_LIBS = $(call pkglibs,$(PKGS_cli))
$(BIN)/tscache-demo-upstream: LINK_LIBS = $(call pkglibs,$(PKGS_demo))
#  -Wl,--as-needed: a package listed but not used by the objects linked
#  is not recorded as a dependency of the binary.
$(PROGRAMS):
	@mkdir -p $(BIN)
	$(say) LINK $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Wl,--as-needed -o $@ $^ $(LINK_LIBS)

#  Unit tests: objects each test needs (so one module's test builds even
#  while another module is broken).
CORE = common/ts_common common/ts_log common/ts_redact common/ts_duration
DEPS_test_ts_common = $(CORE)
DEPS_test_ts_redact = $(CORE)
DEPS_test_ts_log    = $(CORE)
DEPS_test_ts_envelope = $(CORE) common/ts_envelope
DEPS_test_ts_prom   = $(CORE) common/ts_prom
DEPS_test_ts_points = $(CORE) common/ts_points
DEPS_test_ts_cron   = $(CORE) common/ts_cron
DEPS_test_ts_ratelimit = $(CORE) common/ts_ratelimit
DEPS_test_ts_backfill = $(CORE) broker/ts_backfill common/ts_config common/ts_cron
#  The broker's rate limits per source, on a bare broker struct.
DEPS_test_ts_broker_rate = $(CORE) common/ts_ratelimit common/ts_config \
                           common/ts_cron common/ts_prom common/ts_proto \
                           common/ts_points broker/queue/ts_queue_job \
                           broker/ts_broker_rate
$(BUILD)/tests/test_ts_broker_rate: CFLAGS += -Ibroker/queue
DEPS_test_ts_daemon = $(CORE) common/ts_daemon common/ts_config common/ts_cron \
                      common/ts_version
#  ts_config's tests, one per file of it (test_ts_config: the whole),
#  share tests/unit/ts_config_fixture.h.
DEPS_test_ts_config = $(CORE) common/ts_config common/ts_cron
DEPS_test_ts_config_yaml   = $(DEPS_test_ts_config)
DEPS_test_ts_config_keys   = $(DEPS_test_ts_config)
DEPS_test_ts_config_secret = $(DEPS_test_ts_config)
DEPS_test_ts_config_source = $(DEPS_test_ts_config)
$(BUILD)/tests/test_ts_config $(BUILD)/tests/test_ts_config_yaml \
$(BUILD)/tests/test_ts_config_keys $(BUILD)/tests/test_ts_config_secret \
$(BUILD)/tests/test_ts_config_source: \
        tests/unit/ts_config_fixture.h
#  ts_map's tests, one per file of it (test_ts_map: the spec), share
#  tests/unit/ts_map_fixture.h.
DEPS_test_ts_map    = $(CORE) common/ingest/ts_map common/ts_config common/ts_cron common/ts_points
DEPS_test_ts_map_parse = $(DEPS_test_ts_map)
DEPS_test_ts_map_read  = $(DEPS_test_ts_map)
DEPS_test_ts_map_shapes = $(DEPS_test_ts_map)
$(BUILD)/tests/test_ts_map $(BUILD)/tests/test_ts_map_parse \
$(BUILD)/tests/test_ts_map_read $(BUILD)/tests/test_ts_map_shapes: \
        tests/unit/ts_map_fixture.h
DEPS_test_ts_tz     = $(CORE) common/ts_tz common/ts_duration
#  The ingest path writes through the store: whatever the store's own
#  test links.
DEPS_test_ts_ingest = $(DEPS_test_ts_store) common/ingest/ts_ingest common/ingest/ts_map
#  The codec's tests, one per job of it (test_ts_proto: the message and
#  its framing), share tests/unit/ts_proto_fixture.h.
DEPS_test_ts_proto  = $(CORE) common/ts_proto common/ts_points
DEPS_test_ts_proto_client = $(DEPS_test_ts_proto)
DEPS_test_ts_proto_worker = $(DEPS_test_ts_proto)
DEPS_test_ts_proto_points = $(DEPS_test_ts_proto)
DEPS_test_ts_proto_compact = $(DEPS_test_ts_proto)
$(BUILD)/tests/test_ts_proto $(BUILD)/tests/test_ts_proto_client \
$(BUILD)/tests/test_ts_proto_worker $(BUILD)/tests/test_ts_proto_points \
$(BUILD)/tests/test_ts_proto_compact: \
        tests/unit/ts_proto_fixture.h
DEPS_test_ts_store  = $(CORE) common/store/ts_store common/store/ts_store_lmdb common/ts_config \
                      common/ts_cron common/ts_points tests/unit/ts_testutil
DEPS_test_ts_store_lmdb = $(DEPS_test_ts_store)
DEPS_test_ts_store_lmdb_blocks = $(DEPS_test_ts_store)
DEPS_test_ts_queue  = $(CORE) broker/queue/ts_queue broker/queue/ts_queue_lmdb common/ts_lmdb \
                      broker/queue/ts_queue_job broker/queue/ts_queue_machine \
                      common/ts_config common/ts_cron
DEPS_test_store_contract = $(DEPS_test_ts_store)
DEPS_test_store_contract_docs = $(DEPS_test_ts_store)
DEPS_test_store_contract_procs = $(DEPS_test_ts_store)
DEPS_test_store_contract_sources = $(DEPS_test_ts_store)
DEPS_test_store_contract_status = $(DEPS_test_ts_store)
DEPS_test_store_contract_scan = $(DEPS_test_ts_store)
DEPS_test_store_influxdb = $(DEPS_test_ts_store)
DEPS_test_queue_contract = $(DEPS_test_ts_queue)
DEPS_test_queue_contract_restart = $(DEPS_test_ts_queue)
DEPS_test_queue_contract_filter = $(DEPS_test_ts_queue)
DEPS_test_queue_contract_batch = $(DEPS_test_ts_queue)
DEPS_test_queue_contract_priority = $(DEPS_test_ts_queue)
#  test_ts_queue shares the queue contract suites' fixture, test_ts_store
#  the store suites' steps.
$(BUILD)/tests/test_ts_queue: tests/contract/ts_queue_fixture.h tests/contract/ts_contract.h
$(BUILD)/tests/test_ts_store: tests/contract/ts_store_steps.h
DEPS_test_ts_json   = $(CORE) gateway/ts_json common/ts_proto common/ts_points
DEPS_test_ts_accept = $(CORE) gateway/ts_accept
DEPS_test_ts_csv    = $(CORE) gateway/ts_csv gateway/ts_json common/ts_proto common/ts_points
DEPS_test_ts_reply  = $(CORE) gateway/ts_reply gateway/ts_json common/ts_proto common/ts_points
DEPS_test_ts_target = $(CORE) gateway/ts_target
DEPS_test_ts_h1     = $(CORE) gateway/ts_h1
DEPS_test_ts_http_peers = gateway/ts_http_peers
DEPS_test_ts_cache  = $(CORE) gateway/ts_cache
DEPS_test_ts_fresh  = $(CORE) gateway/ts_fresh common/ts_config common/ts_cron
DEPS_test_ts_flight = $(CORE) gateway/ts_flight
DEPS_test_ts_notice = $(CORE) gateway/ts_notice gateway/ts_cache common/ts_proto common/ts_points \
                      common/ts_curve common/ts_config common/ts_cron
#  The request handler's tests (queries, registry, broker ops) share
#  tests/unit/ts_api_fixture.h.
DEPS_test_ts_api    = $(CORE) gateway/ts_api gateway/ts_flight gateway/ts_hydrator gateway/ts_ready \
                      gateway/ts_metrics common/ts_prom_stats gateway/ts_json common/ts_client common/ts_curve gateway/ts_cache common/ts_proto common/store/ts_store \
                      common/ts_envelope \
                      common/store/ts_store_lmdb common/ts_config common/ts_cron \
                      common/ts_points tests/unit/ts_testutil \
                      tests/unit/ts_fakebroker
DEPS_test_ts_api_ids    = $(DEPS_test_ts_api)
DEPS_test_ts_api_broker = $(DEPS_test_ts_api)
DEPS_test_ts_query_run  = $(DEPS_test_ts_api)
DEPS_test_ts_query  = $(CORE) common/ts_proto common/ts_points
DEPS_test_ts_api_fresh  = $(DEPS_test_ts_api)
DEPS_test_ts_api_readthru = $(DEPS_test_ts_api)
$(BUILD)/tests/test_ts_api $(BUILD)/tests/test_ts_api_ids \
$(BUILD)/tests/test_ts_api_broker $(BUILD)/tests/test_ts_api_fresh \
$(BUILD)/tests/test_ts_api_readthru \
$(BUILD)/tests/test_ts_query_run: tests/unit/ts_api_fixture.h
#  The routes and the seed's route share tests/unit/ts_route_fixture.h.
DEPS_test_ts_route  = $(CORE) gateway/ts_route gateway/ts_route_series gateway/ts_ui gateway/ts_accept gateway/ts_csv gateway/ts_grafana gateway/ts_keys gateway/ts_params \
                      gateway/ts_h1 gateway/ts_reply gateway/ts_seed gateway/ts_api gateway/ts_flight gateway/ts_hydrator gateway/ts_ready \
                      gateway/ts_metrics common/ts_prom_stats common/ts_client common/ts_curve gateway/ts_cache \
                      gateway/ts_json gateway/ts_target common/ts_envelope common/ts_proto common/store/ts_store \
                      common/store/ts_store_lmdb common/ts_config common/ts_cron \
                      common/ts_points tests/unit/ts_testutil \
                      tests/unit/ts_fakebroker
DEPS_test_ts_http_stream = $(DEPS_test_ts_route) gateway/ts_http_conn gateway/ts_h1
DEPS_test_ts_seed   = $(DEPS_test_ts_route)
$(BUILD)/tests/test_ts_route $(BUILD)/tests/test_ts_seed: tests/unit/ts_route_fixture.h
$(BUILD)/tests/test_ts_store_lmdb $(BUILD)/tests/test_ts_store_lmdb_blocks: \
        tests/unit/ts_store_lmdb_fixture.h
DEPS_test_ts_zmqsrv = $(CORE) gateway/ts_zmqsrv gateway/ts_api gateway/ts_flight gateway/ts_hydrator gateway/ts_ready \
                      gateway/ts_metrics common/ts_prom_stats gateway/ts_json common/ts_client common/ts_curve gateway/ts_cache common/ts_proto \
                      common/ts_envelope common/ts_daemon common/ts_version \
                      common/store/ts_store common/store/ts_store_lmdb common/ts_config \
                      common/ts_cron common/ts_points tests/unit/ts_testutil \
                      tests/unit/ts_fakebroker
DEPS_test_ts_client = $(CORE) common/ts_client common/ts_curve common/ts_config \
                      common/ts_cron common/ts_proto common/ts_envelope \
                      common/ts_points tests/unit/ts_fakebroker
DEPS_test_ts_curve  = $(CORE) common/ts_curve common/ts_config common/ts_cron
DEPS_test_ts_http_key = $(CORE) gateway/ts_http_key common/ts_curve common/ts_config \
                      common/ts_cron
#  The key set; a wrapper counts its lookups' comparisons (in TEST_LDLIBS:
#  make asan sets LDFLAGS on its command line).
DEPS_test_ts_keys   = $(CORE) gateway/ts_keys common/ts_curve common/ts_config \
                      common/ts_cron
$(BUILD)/tests/test_ts_keys: TEST_LDLIBS += -Wl,--wrap=ts_secure_equal
DEPS_test_ts_params = $(CORE) gateway/ts_params gateway/ts_target common/ts_proto \
                      common/ts_points
DEPS_test_ts_cli_args = $(CORE) gateway/ts_cli_args common/ts_proto common/ts_points
DEPS_test_ts_cli_wait = $(CORE) gateway/ts_cli_wait gateway/ts_json common/ts_proto \
                      common/ts_points
DEPS_test_ts_url    = $(CORE) workers/ts_url
DEPS_test_ts_url_template = $(CORE) workers/ts_url
DEPS_test_ts_oauth2 = $(CORE) workers/ts_oauth2 common/ts_config common/ts_cron
DEPS_test_ts_fetch  = $(CORE) workers/ts_fetch
DEPS_test_ts_fetch_classify = $(DEPS_test_ts_fetch)
DEPS_test_ts_pages  = $(CORE) workers/ts_pages common/ts_config common/ts_cron
DEPS_test_ts_tally  = $(CORE) workers/ts_tally workers/ts_fetch
$(BUILD)/tests/test_ts_fetch $(BUILD)/tests/test_ts_fetch_classify: \
        tests/unit/ts_fetch_fixture.h
DEPS_test_ts_store_router = $(DEPS_test_ts_store)
DEPS_test_ts_store_dynamodb = $(CORE) common/store/ts_store_dynamodb_item common/ts_points
#  The backend's requests against the AWS tests' loopback server.
DEPS_test_ts_store_dynamodb_calls = $(DEPS_test_ts_store) tests/unit/ts_aws_fixture
$(BUILD)/tests/test_ts_store_dynamodb_calls: tests/unit/ts_aws_fixture.h \
        tests/unit/ts_aws_store_fixture.h
#  The Timestream backend: its pure parts, its requests against the AWS
#  tests' loopback server.
DEPS_test_ts_store_timestream = $(DEPS_test_ts_store)
DEPS_test_ts_store_timestream_calls = $(DEPS_test_ts_store) tests/unit/ts_aws_fixture
$(BUILD)/tests/test_ts_store_timestream_calls: tests/unit/ts_aws_fixture.h \
        tests/unit/ts_aws_store_fixture.h
#  The InfluxDB backend's pure parts.
DEPS_test_ts_store_influxdb = $(DEPS_test_ts_store)
DEPS_test_ts_aws_sigv4 = $(CORE) common/aws/ts_aws_sigv4
#  The AWS plumbing's tests share a loopback server (tests/unit/ts_aws_fixture).
DEPS_test_ts_aws    = $(CORE) common/aws/ts_aws tests/unit/ts_aws_fixture
DEPS_test_ts_aws_creds = $(DEPS_test_ts_aws)
$(BUILD)/tests/test_ts_aws $(BUILD)/tests/test_ts_aws_creds: tests/unit/ts_aws_fixture.h
#  A module written as several files links as one: where DEPS_test_X
#  names it, PARTS_<module> adds its other files.
PARTS_common/ts_config = common/ts_config_keys common/ts_config_yaml \
                         common/ts_config_secret common/ts_config_value \
                         common/ts_config_source common/ts_config_format \
                         common/ts_tz common/ts_duration
#  upstream.rate_limit.rate is checked by the rate limiter's parser.
PARTS_common/ts_config += common/ts_ratelimit
PARTS_common/ts_proto = common/ts_proto_codec common/ts_proto_client common/ts_proto_fresh \
                        common/ts_proto_worker common/ts_proto_points \
                        common/ts_proto_query common/ts_proto_ids \
                        common/ts_query
PARTS_common/ingest/ts_map = common/ingest/ts_map_parse \
                             common/ingest/ts_map_read \
                             common/ingest/ts_map_zone
#  The router's table names every backend: linking the store links them.
PARTS_common/store/ts_store = common/ts_prom \
                              common/store/ts_store_dynamodb \
                              common/store/ts_store_dynamodb_item \
                              common/store/ts_store_dynamodb_init \
                              common/store/ts_store_dynamodb_status \
                              common/store/ts_store_timestream \
                              common/store/ts_store_timestream_call \
                              common/store/ts_store_timestream_text \
                              common/store/ts_store_timestream_init \
                              common/store/ts_store_influxdb \
                              common/store/ts_store_influxdb_http \
                              common/store/ts_store_influxdb_text \
                              common/store/ts_store_influxdb_init \
                              common/store/ts_store_history_only \
                              common/store/ts_store_status \
                              common/store/ts_store_scan \
                              common/aws/ts_aws $(PARTS_common/aws/ts_aws)
PARTS_common/store/ts_store_lmdb = common/store/ts_store_lmdb_points \
                                 common/store/ts_store_lmdb_history \
                                 common/store/ts_store_lmdb_run \
                                 common/store/ts_store_lmdb_status \
                                 common/store/ts_store_lmdb_scan \
                                 common/store/ts_store_lmdb_format \
                                 common/ts_lmdb
#  ts_api's parts: queries (with the query engine and the freshness
#  judge) and read-through.
#  The number formatting of the JSON writer.
PARTS_gateway/ts_json = gateway/ts_json_number
PARTS_gateway/ts_api = gateway/ts_api_query gateway/ts_api_rt \
                       gateway/ts_query_run common/ts_agg gateway/ts_fresh
#  The metric families of the broker's stats name the version.
PARTS_common/ts_prom_stats = common/ts_prom common/ts_version
PARTS_broker/queue/ts_queue_lmdb = broker/queue/ts_queue_lmdb_record \
                                   broker/queue/ts_queue_lmdb_ids
PARTS_workers/ts_fetch = workers/ts_fetch_classify
PARTS_workers/ts_pages = workers/ts_pages_scan
PARTS_common/aws/ts_aws = common/aws/ts_aws_sigv4 common/aws/ts_aws_creds \
                          common/aws/ts_aws_body
with_parts = $(sort $(foreach m,$(1),$(m) $(PARTS_$(m))))

.SECONDEXPANSION:
#  Contract suites (tests/contract/test_*.c) link their seam's modules and
#  every backend; DEPS_test_X as for unit tests.
$(BUILD)/tests/contract/%: tests/contract/%.c $(wildcard tests/contract/*.h) \
        $$(addprefix $(BUILD)/,$$(addsuffix .o,$$(call with_parts,$$(or $$(DEPS_$$*),$$(ALL_MODS)))))
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter-out %.h,$^) $(LDLIBS) $(TEST_LDLIBS)
$(BUILD)/tests/%: tests/unit/%.c $$(addprefix $(BUILD)/,$$(addsuffix .o,$$(call with_parts,$$(or $$(DEPS_$$*),$$(ALL_MODS)))))
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter-out %.h,$^) $(LDLIBS) $(TEST_LDLIBS)

#  Fuzz targets (fuzz/fuzz_*.c): DEPS_fuzz_X as for unit tests, built
#  only by make fuzz (clang, libFuzzer and sanitizers, in build-fuzz/).
DEPS_fuzz_cron     = $(DEPS_test_ts_cron)
DEPS_fuzz_proto    = $(DEPS_test_ts_proto)
DEPS_fuzz_map      = $(DEPS_test_ts_map)
DEPS_fuzz_config   = $(DEPS_test_ts_map)
DEPS_fuzz_http     = $(filter-out tests/unit/ts_fakebroker,$(DEPS_test_ts_route))
DEPS_fuzz_dynamodb = $(DEPS_test_ts_store)
DEPS_fuzz_timestream = $(DEPS_test_ts_store)
DEPS_fuzz_influxdb = $(DEPS_test_ts_store)
DEPS_fuzz_aws_creds = $(filter-out tests/unit/ts_aws_fixture,$(DEPS_test_ts_aws_creds))
DEPS_fuzz_pages    = $(DEPS_test_ts_pages)
DEPS_fuzz_request  = $(CORE) workers/ts_url workers/ts_oauth2 common/ts_config common/ts_cron
$(BUILD)/fuzz/%: fuzz/%.c fuzz/fuzz.h \
        $$(addprefix $(BUILD)/,$$(addsuffix .o,$$(call with_parts,$$(DEPS_$$*))))
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $(filter-out %.h,$^) $(LDLIBS)

deps:
	@tools/install-deps.sh build

deps-run:
	@tools/install-deps.sh run

deps-test:
	@tools/install-deps.sh test

#  Builds only what it runs: the unit tests need cmocka, which make run
#  does not install.
run: deps-run
	@$(MAKE) --no-print-directory $(PROGRAMS)
	@tools/run-demo.sh

#  Both also build the fuzz targets (build-fuzz/, clang): tests/run.sh
#  runs each FUZZ_SECONDS (on 2 cores about 1.5 minutes, and about 1 to
#  build them from clean). And the sanitizer build (build-asan/, about 1
#  minute). Measured on 2 idle cores (docs/robustness.md, "Sanitizers"),
#  the suites take under ASan little more than plain (unit 39 s, contract
#  35 s, integration 124 s, e2e 201 s; plain 25, 18, 128, 156 s): so
#  make test runs every suite of make test-asan, against build-asan/
#  only, not twice; then test_install and test_compose, which check the
#  plain build, and the pipeline test with the plain (shipped, -O2)
#  daemons under valgrind (make memcheck, 10 s idle). The fuzz targets
#  run TEST_FUZZ_SECONDS each here (11 targets; make fuzz runs each
#  FUZZ_SECONDS), so that the whole stays near 15 minutes from clean on 2
#  cores with the sources of issue 17's tests.
TEST_SUITES = $(ASAN_SUITES) integration/test_install,test_compose \
              memcheck:e2e/test_pipeline fuzz
TEST_FUZZ_SECONDS ?= 10
test: deps-test
	@$(MAKE) --no-print-directory all fuzz-build asan-build
	@FUZZ_SECONDS=$(TEST_FUZZ_SECONDS) tests/run.sh $(TEST_SUITES)

check: all fuzz-build asan-build
	@FUZZ_SECONDS=$(TEST_FUZZ_SECONDS) tests/run.sh $(TEST_SUITES)

#  Install, GNU style: make install [PREFIX=/usr/local] [DESTDIR=DIR]
#  (DESTDIR stages the tree, as for a package; BINDIR, MANDIR, DOCDIR,
#  SYSCONFDIR, UNITDIR, SYSUSERSDIR and INSTALL override one part each).
#  Puts the binaries in BINDIR; man pages in MANDIR/man1, made from each
#  binary's --help by help2man (so they never drift from it); the example
#  configs in DOCDIR/examples; the systemd units, with /usr/local/bin and
#  /etc/tscache rewritten to BINDIR and SYSCONFDIR/tscache, in UNITDIR; the
#  tscache user's sysusers.d entry; and, only where none exists yet,
#  SYSCONFDIR/tscache/tscache.yaml (the example with its data in
#  /var/lib/tscache) and SYSCONFDIR/tscache/env (secrets, mode 0600).
#  SYSCONFDIR is /etc whatever PREFIX, as the units and docs say: host
#  config lives in /etc (set SYSCONFDIR=$(PREFIX)/etc for GNU's default).
#  make uninstall removes what install put, but leaves a config or
#  secrets file that differs from the one installed.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
DOCDIR      ?= $(DATADIR)/doc/tscache
SYSCONFDIR  ?= /etc
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
INSTALL     ?= install
CONFDIR      = $(SYSCONFDIR)/tscache
UNITS        = tscache-broker.service tscache-gateway.service tscache-worker@.service
EXAMPLES     = $(notdir $(wildcard config/*.example.yaml))
MANS         = $(patsubst $(BIN)/%,$(BUILD)/man/%.1,$(PROGRAMS))
#  The NAME line of each man page.
MAN_NAME_tscache-broker = schedule fetch jobs and hand them to tscache workers
MAN_NAME_tscache-worker = fetch time series from the upstream API into the store
MAN_NAME_tscache-gateway = answer tscache queries over ZeroMQ and HTTP
MAN_NAME_tscache = command-line client of the tscache gateway
MAN_NAME_tscache-demo-upstream = a demo upstream API for trying and testing tscache

man: $(MANS)

$(BUILD)/man/%.1: $(BIN)/%
	@command -v help2man >/dev/null || { echo "help2man is missing:" \
	    "tools/install-deps.sh build installs it" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(say) MAN $@
	$(Q)help2man --no-info --no-discard-stderr --section=1 \
	    --name="$(MAN_NAME_$*)" --version-string="$(TS_VERSION)" \
	    --output=$@.tmp ./$< && mv -f $@.tmp $@

#  What make install writes besides copies: the units with the install's
#  paths, the host config (data in /var/lib/tscache). Rebuilt when the
#  paths change (the stamp holds them).
INSTALL_PATHS = $(BINDIR) $(CONFDIR)
$(BUILD)/install/paths: FORCE
	@mkdir -p $(dir $@)
	@echo '$(INSTALL_PATHS)' >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi
$(BUILD)/install/%.service: deploy/systemd/%.service $(BUILD)/install/paths
	$(Q)sed -e '/^#/!s|/usr/local/bin/|$(BINDIR)/|g' -e '/^#/!s|/etc/tscache\b|$(CONFDIR)|g' \
	    $< >$@
$(BUILD)/install/tscache.yaml: config/tscache.example.yaml
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|^\(    path:\) \./var/data$$|\1 /var/lib/tscache/data|' \
	    -e 's|^\(  queue_path:\) \./var/queue$$|\1 /var/lib/tscache/queue|' \
	    -e 's|^\(  [a-z_]*:\) \./var/keys/|\1 $(CONFDIR)/keys/|' $< >$@
INSTALL_GEN = $(addprefix $(BUILD)/install/,$(UNITS) tscache.yaml)

install: $(PROGRAMS) $(MANS) $(INSTALL_GEN)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(CONFDIR)
	$(INSTALL) -m 755 $(PROGRAMS) $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 644 $(MANS) $(DESTDIR)$(MANDIR)/man1
	$(INSTALL) -m 644 $(addprefix config/,$(EXAMPLES)) $(DESTDIR)$(DOCDIR)/examples
	$(INSTALL) -m 644 $(addprefix $(BUILD)/install/,$(UNITS)) $(DESTDIR)$(UNITDIR)
	$(INSTALL) -m 644 deploy/systemd/tscache.sysusers $(DESTDIR)$(SYSUSERSDIR)/tscache.conf
	@#  Never over a config or secrets file already there.
	@[ -e $(DESTDIR)$(CONFDIR)/tscache.yaml ] \
	    && echo "kept $(DESTDIR)$(CONFDIR)/tscache.yaml" \
	    || $(INSTALL) -m 644 $(BUILD)/install/tscache.yaml $(DESTDIR)$(CONFDIR)/tscache.yaml
	@[ -e $(DESTDIR)$(CONFDIR)/env ] && echo "kept $(DESTDIR)$(CONFDIR)/env" \
	    || $(INSTALL) -m 600 deploy/systemd/tscache.env $(DESTDIR)$(CONFDIR)/env
	@echo "installed; on a systemd host: systemd-sysusers && systemctl daemon-reload" \
	    "(deploy/README.md, \"Host install\")"

#  A config or secrets file is removed only if it is still the one
#  install put there.
uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(PROGRAMS))) \
	    $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MANS))) \
	    $(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(EXAMPLES)) \
	    $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS)) \
	    $(DESTDIR)$(SYSUSERSDIR)/tscache.conf
	@for f in tscache.yaml:$(BUILD)/install/tscache.yaml env:deploy/systemd/tscache.env; do \
	    dst=$(DESTDIR)$(CONFDIR)/$${f%%:*}; \
	    [ -e "$$dst" ] || continue; \
	    if cmp -s "$$dst" "$${f#*:}"; then rm -f "$$dst"; \
	    else echo "kept $$dst (changed since install)"; fi; \
	done
	-@rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) $(DESTDIR)$(CONFDIR) 2>/dev/null || true

#  Scaling benchmark (not part of make test; takes about 4-5 minutes):
#  hydration time with 1, 2, 4, 8 workers and concurrency 1, 16, 64.
bench-scale: $(PROGRAMS)
	@bench/bench-scale

#  Query and hydration benchmark (not part of make test; about 9 minutes,
#  of which about 15 s for the gateway's memory on a 1,000,000-point
#  answer, 1 minute for VictoriaMetrics and Varnish (figure 10), 40 s for
#  dispatch and scale (figures 9 and 12), 1.5 for the DynamoDB figure and
#  1 for the InfluxDB one): tscache side by
#  side with nginx, Redis, InfluxDB, VictoriaMetrics and Varnish on this
#  machine, on dynalite beside dynalite's own rate, and with history on
#  influxd beside influxd's own; installs the peers, prints tables and
#  records them in docs/benchmarks.md. bench/storefill loads that answer's
#  points.
$(BUILD)/bench/zmqload: $(BUILD)/bench/zmqload.o $(LIB)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/bench/dispatchload: $(BUILD)/bench/dispatchload.o $(LIB)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/bench/ingestload: $(BUILD)/bench/ingestload.o $(LIB)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/bench/zmqecho: $(BUILD)/bench/zmqecho.o
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
#  bench/alloccount.so, preloaded into figure 9's broker to count its heap
#  allocations per job: glibc only.
$(BUILD)/bench/alloccount.so: bench/alloccount.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(CFLAGS) -fPIC -shared -o $@ $<
#  bench/ddbload, the DynamoDB and InfluxDB figures' bare client: libcurl
#  only.
$(BUILD)/bench/ddbload: $(BUILD)/bench/ddbload.o
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(call pkglibs,libcurl)
$(BUILD)/bench/storefill: $(BUILD)/bench/storefill.o $(LIB)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench:
	@tools/install-deps.sh bench
	@$(MAKE) --no-print-directory $(PROGRAMS) $(BUILD)/bench/zmqload $(BUILD)/bench/zmqecho \
	    $(BUILD)/bench/storefill $(BUILD)/bench/ddbload $(BUILD)/bench/dispatchload \
	    $(BUILD)/bench/ingestload $(BUILD)/bench/alloccount.so \
	    $(BUILD)/tests/test_ts_aws_sigv4
	@TSCACHE_ZMQLOAD=$(BUILD)/bench/zmqload TSCACHE_ZMQECHO=$(BUILD)/bench/zmqecho \
	    TSCACHE_STOREFILL=$(BUILD)/bench/storefill \
	    TSCACHE_DISPATCHLOAD=$(BUILD)/bench/dispatchload \
	    TSCACHE_ALLOCCOUNT=$(BUILD)/bench/alloccount.so \
	    TSCACHE_INGESTLOAD=$(BUILD)/bench/ingestload bench/bench
	@TSCACHE_DDBLOAD=$(BUILD)/bench/ddbload TSCACHE_TESTS=$(BUILD)/tests bench/bench-dynamodb
	@TSCACHE_DDBLOAD=$(BUILD)/bench/ddbload bench/bench-influxdb

#  The DynamoDB figure of make bench alone (about 2 minutes): hydration
#  with registry and forecast on dynalite beside dynalite's own rate for
#  the same requests (bench/ddbload), and the SigV4 signing cost.
bench-dynamodb:
	@tools/install-deps.sh bench
	@$(MAKE) --no-print-directory $(PROGRAMS) $(BUILD)/bench/ddbload \
	    $(BUILD)/tests/test_ts_aws_sigv4
	@TSCACHE_DDBLOAD=$(BUILD)/bench/ddbload TSCACHE_TESTS=$(BUILD)/tests bench/bench-dynamodb

#  The InfluxDB figure of make bench alone (about 1.5 minutes): hydration
#  and queries with history on influxd beside influxd's own rate for the
#  same requests (bench/ddbload --raw, wrk).
bench-influxdb:
	@tools/install-deps.sh bench
	@$(MAKE) --no-print-directory $(PROGRAMS) $(BUILD)/bench/ddbload
	@TSCACHE_DDBLOAD=$(BUILD)/bench/ddbload bench/bench-influxdb

#  Soak (not part of make test; SOAK_SECONDS, default 60, plus about
#  half a minute): the pipeline on loopback under wrk -c200 queries, a
#  hydration of 5,000 ids in rounds and a worker SIGKILLed every 10 s and
#  replaced; then checks that no job was lost, no query failed, no daemon
#  restarted and none grew in descriptors or memory, and prints a figures
#  table (bench/soak; docs/robustness.md, "Soak"). Exits non-zero if a
#  check fails.
SOAK_SECONDS ?= 60
soak:
	@tools/install-deps.sh bench
	@$(MAKE) --no-print-directory $(PROGRAMS)
	@SOAK_SECONDS=$(SOAK_SECONDS) bench/soak

#  Both README commands on a fresh Debian bookworm root (needs root;
#  about 5 minutes; takes the committed HEAD).
fresh-check:
	@tools/fresh-check.sh

#  The image and docker-compose.yml without a container engine (needs
#  root; about 5 minutes; takes the committed HEAD): deploy/docker/
#  Dockerfile built in Debian minbase chroots, every compose service in a
#  network namespace of its own, the README's first query answered.
image-check:
	@tools/install-deps.sh test
	@tools/image-check

#  Sanitizers (docs/robustness.md, "Sanitizers"): every binary, unit test
#  and contract suite built with AddressSanitizer (LeakSanitizer with it)
#  and UBSan, which stops at its first report, into build-asan/. By clang,
#  as the fuzz targets: gcc's UBSan runtime writes its reports to stderr
#  whatever log_path says, and tests/run.sh finds a daemon's report by its
#  file. make test-asan runs every suite but fuzz against them (about 8
#  minutes on 2 idle cores, 14 on busy ones, with the build from clean);
#  make test only a part (below).
#  Without clang (make check on a machine without the test deps), cc:
#  gcc's ASan is as good, but its UBSan reports reach only stderr.
SAN_CC    ?= $(if $(shell command -v clang 2>/dev/null),clang,$(CC))
SAN_FLAGS  = -fsanitize=address,undefined -fno-sanitize-recover=undefined
ASAN_SUITES = asan:unit asan:contract asan:integration asan:e2e
asan-build:
	@$(MAKE) --no-print-directory BUILD=build-asan BIN=build-asan/bin CC=$(SAN_CC) \
	    OPT="-O1 -g $(SAN_FLAGS) -fno-omit-frame-pointer" LDFLAGS="$(SAN_FLAGS)" all

test-asan: deps-test
	@$(MAKE) --no-print-directory asan-build
	@tests/run.sh $(ASAN_SUITES)

asan: test-asan

#  Memcheck (docs/robustness.md, "Memcheck"): the end-to-end tests of
#  MEMCHECK_TESTS (default the pipeline test, which starts the broker, two
#  workers and the gateway) with each daemon under valgrind's memcheck,
#  full leak check; any error or definite leak fails the test. Plain
#  build/.
MEMCHECK_TESTS ?= test_pipeline
comma := ,
memcheck: deps-test
	@$(MAKE) --no-print-directory all
	@tests/run.sh memcheck:e2e/$(subst $(eval) ,$(comma),$(strip $(MEMCHECK_TESTS)))

#  Fuzzing (docs/robustness.md, "Fuzzing"): builds the libFuzzer targets
#  of fuzz/ with clang, ASan and UBSan (objects in build-fuzz/) and runs
#  each for FUZZ_SECONDS over a copy of its seed corpus fuzz/corpus/NAME,
#  FUZZ_JOBS at a time; fails on any crash, leak or timeout and prints
#  the reproducer's path. FUZZ_TARGETS=NAME... runs some (names without
#  fuzz_). Without clang, outside CI, says so and skips.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 20
FUZZ_TARGETS ?= $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
fuzz-build:
	@if ! command -v $(FUZZ_CC) >/dev/null 2>&1; then \
	    if [ -n "$(CI)" ]; then echo "fuzz: $(FUZZ_CC) is missing" \
	        "(tools/install-deps.sh test installs it)" >&2; exit 1; fi; \
	    echo "fuzz: SKIP: $(FUZZ_CC) is missing (tools/install-deps.sh test" \
	        "installs it); the fuzz targets are not built"; exit 0; fi; \
	$(MAKE) --no-print-directory BUILD=build-fuzz BIN=build-fuzz/bin CC=$(FUZZ_CC) \
	    OPT="-O1 -g $(SAN_FLAGS) -fsanitize=fuzzer-no-link -fno-omit-frame-pointer" \
	    LDFLAGS="$(SAN_FLAGS)" fuzz-targets
fuzz-targets: $(addprefix $(BUILD)/fuzz/fuzz_,$(FUZZ_TARGETS))
	@:

fuzz: fuzz-build
	@FUZZ_BIN=build-fuzz/fuzz fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD) build-asan build-fuzz $(BIN)

.PHONY: all programs deps deps-run deps-test run test check asan asan-build test-asan memcheck fuzz fuzz-build fuzz-targets clean bench-scale \
        bench bench-dynamodb bench-influxdb soak fresh-check image-check man install uninstall FORCE
.SECONDARY:
