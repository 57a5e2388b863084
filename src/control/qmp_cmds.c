/* SPDX-License-Identifier: Apache-2.0 */
/*
 * QMP dispatch and commands.  Every message passes QEMU's checks in QEMU's
 * order, with QEMU's error texts (clients and people compare them): the
 * envelope (an object with "execute", optional "arguments" and "id"), the
 * negotiation mode, the command's name, then its arguments (declared ones
 * first, missing or mistyped, then any undeclared), and only then the
 * command runs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "accel/accel.h"
#include "cli/cli.h"
#include "control/qmp_int.h"
#include "machine/machine.h"
#include "machine/machine_snapshot.h"

#define GENERIC   "GenericError"
#define NOT_FOUND "CommandNotFound"

enum arg_type { ARG_STR, ARG_BOOL, ARG_STR_LIST };

struct qmp_arg {
	const char *name;
	enum arg_type type;
	int required;
};

typedef json_t *(*qmp_cmd_fn)(struct qmp_server *q, struct qmp_client *c, json_t *args,
			      struct qmp_error *e);

struct qmp_cmd {
	const char *name;
	qmp_cmd_fn fn;
	struct qmp_arg args[6];         /* ends with a NULL name */
};

static json_t *cmd_error(struct qmp_error *e, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records the error; NULL, for "return cmd_error(...)". */
static json_t *cmd_error(struct qmp_error *e, const char *cls, const char *fmt, ...)
{
	va_list ap;

	e->cls = cls;
	va_start(ap, fmt);
	vsnprintf(e->desc, sizeof(e->desc), fmt, ap);
	va_end(ap);
	return NULL;
}

static json_t *error_object(const char *cls, const char *desc)
{
	return json_pack("{s:{s:s,s:s}}", "error", "class", cls, "desc", desc);
}

json_t *qmp_error_reply(const char *cls, const char *fmt, ...)
{
	char desc[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	return error_object(cls, desc);
}

json_t *qmp_version_json(void)
{
	return json_pack("{s:{s:i,s:i,s:i},s:s}", "qemu", "micro", QMP_QEMU_MICRO,
			 "minor", QMP_QEMU_MINOR, "major", QMP_QEMU_MAJOR,
			 "package", "vmon " VMON_VERSION);
}

/* ---- negotiation and introspection -------------------------------------- */

static json_t *cmd_qmp_capabilities(struct qmp_server *q, struct qmp_client *c, json_t *args,
				    struct qmp_error *e)
{
	json_t *enable = json_object_get(args, "enable"), *v;
	size_t i;

	if (c->command_mode)
		return cmd_error(e, NOT_FOUND, "Capabilities negotiation is already complete, "
				 "command ignored");
	json_array_foreach(enable, i, v) {
		if (strcmp(json_string_value(v), "oob"))
			return cmd_error(e, GENERIC, "Parameter 'enable[%zu]' does not accept value '%s'",
					 i, json_string_value(v));
	}
	/* "oob" is QEMU's only capability, and the greeting did not offer it. */
	if (json_array_size(enable))
		return cmd_error(e, GENERIC, "Capability oob not available");
	qmp_events_discard(q);
	c->command_mode = 1;
	return json_object();
}

static json_t *cmd_query_version(struct qmp_server *q, struct qmp_client *c, json_t *args,
				 struct qmp_error *e)
{
	(void)q, (void)c, (void)args, (void)e;
	return qmp_version_json();
}

static json_t *cmd_query_commands(struct qmp_server *q, struct qmp_client *c, json_t *args,
				  struct qmp_error *e);

/* ---- the machine's state ------------------------------------------------ */

static const char *const run_state_names[] = {
	[MACHINE_RUNNING] = "running", [MACHINE_PAUSED] = "paused",
	[MACHINE_POSTMIGRATE] = "postmigrate", [MACHINE_SHUTDOWN] = "shutdown",
};

static json_t *cmd_query_status(struct qmp_server *q, struct qmp_client *c, json_t *args,
				struct qmp_error *e)
{
	enum machine_run_state st = machine_run_state(q->m);

	(void)c, (void)args, (void)e;
	return json_pack("{s:s,s:b,s:b}", "status", run_state_names[st], "singlestep", 0,
			 "running", st == MACHINE_RUNNING);
}

static json_t *cmd_query_kvm(struct qmp_server *q, struct qmp_client *c, json_t *args,
			     struct qmp_error *e)
{
	char why[256];

	(void)c, (void)args, (void)e;
	return json_pack("{s:b,s:b}", "enabled", !strcmp(q->m->accel->name, "kvm"),
			 "present", accel_kvm.probe(why, sizeof(why)));
}

/* vmon's CPUID describes one package of single-thread cores, so vCPU i is
 * core i of socket 0, as QEMU's -smp N,sockets=1 would say. */
static json_t *cmd_query_cpus_fast(struct qmp_server *q, struct qmp_client *c, json_t *args,
				   struct qmp_error *e)
{
	json_t *list = json_array();

	(void)c, (void)args, (void)e;
	for (int i = 0; list && i < q->m->ncpus; i++) {
		char path[64];
		int tid = __atomic_load_n(&q->m->vcpus[i].tid, __ATOMIC_RELAXED);

		snprintf(path, sizeof(path), "/machine/unattached/device[%d]", i);
		if (json_array_append_new(list, json_pack("{s:i,s:s,s:i,s:s,s:{s:i,s:i,s:i}}",
							  "cpu-index", i, "qom-path", path,
							  "thread-id", tid, "target", "x86_64",
							  "props", "core-id", i, "thread-id", 0,
							  "socket-id", 0))) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

static json_t *cmd_query_block(struct qmp_server *q, struct qmp_client *c, json_t *args,
			       struct qmp_error *e)
{
	(void)c, (void)args, (void)e;
	return qmp_block_query(q->disks, &q->m->cfg);
}

/* ---- run control -------------------------------------------------------- */

static json_t *ending(struct qmp_error *e)
{
	return cmd_error(e, GENERIC, "The machine is shutting down");
}

static json_t *cmd_stop(struct qmp_server *q, struct qmp_client *c, json_t *args,
			struct qmp_error *e)
{
	(void)c, (void)args;
	return machine_pause(q->m) ? ending(e) : json_object();
}

static json_t *cmd_cont(struct qmp_server *q, struct qmp_client *c, json_t *args,
			struct qmp_error *e)
{
	(void)c, (void)args;
	return machine_resume(q->m) ? ending(e) : json_object();
}

static json_t *cmd_system_powerdown(struct qmp_server *q, struct qmp_client *c, json_t *args,
				    struct qmp_error *e)
{
	(void)c, (void)args, (void)e;
	machine_powerdown(q->m);
	return json_object();
}

static json_t *cmd_system_reset(struct qmp_server *q, struct qmp_client *c, json_t *args,
				struct qmp_error *e)
{
	(void)c, (void)args, (void)e;
	machine_reset(q->m);
	return json_object();
}

static json_t *cmd_quit(struct qmp_server *q, struct qmp_client *c, json_t *args,
			struct qmp_error *e)
{
	(void)c, (void)args, (void)e;
	machine_shutdown(q->m, VMON_EXIT_OK, "host-qmp-quit");
	return json_object();
}

/* ---- migration (a whole-VM snapshot to a file) ------------------------- */

static int64_t ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static json_t *cmd_migrate(struct qmp_server *q, struct qmp_client *c, json_t *args,
			   struct qmp_error *e)
{
	const char *uri = json_string_value(json_object_get(args, "uri"));
	struct qmp_migration *mig = &q->mig;
	struct timespec t0;
	char err[sizeof(mig->error)];
	int was_running;

	(void)c;
	if (json_is_true(json_object_get(args, "blk")) || json_is_true(json_object_get(args, "inc")))
		return cmd_error(e, GENERIC, "Block migration is not supported: vmon's snapshot "
				 "holds no disk contents");
	if (json_is_true(json_object_get(args, "resume")))
		return cmd_error(e, GENERIC, "Resuming a paused migration is not supported");
	if (strncmp(uri, "file:", 5) || !uri[5])
		return cmd_error(e, GENERIC, "Parameter 'uri' expects a valid migration protocol "
				 "(vmon migrates to file:PATH only)");
	was_running = machine_run_state(q->m) == MACHINE_RUNNING;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (machine_snapshot_save(q->m, uri + 5, err, sizeof(err))) {
		mig->status = QMP_MIG_FAILED;
		mig->total_ms = ms_since(&t0);
		snprintf(mig->error, sizeof(mig->error), "%s", err);
		/* As QEMU does after a failed migration: the guest goes on. */
		if (was_running)
			machine_resume(q->m);
		return cmd_error(e, GENERIC, "%s", err);
	}
	mig->status = QMP_MIG_COMPLETED;
	mig->total_ms = ms_since(&t0);
	mig->error[0] = 0;
	return json_object();
}

static json_t *cmd_query_migrate(struct qmp_server *q, struct qmp_client *c, json_t *args,
				 struct qmp_error *e)
{
	const struct qmp_migration *mig = &q->mig;

	(void)c, (void)args, (void)e;
	if (mig->status == QMP_MIG_COMPLETED)
		/* The guest stood still the whole time: downtime is all of it. */
		return json_pack("{s:s,s:I,s:I}", "status", "completed", "total-time",
				 (json_int_t)mig->total_ms, "downtime", (json_int_t)mig->total_ms);
	if (mig->status == QMP_MIG_FAILED)
		return json_pack("{s:s,s:s}", "status", "failed", "error-desc", mig->error);
	return json_object();
}

/* ---- the table ---------------------------------------------------------- */

static const struct qmp_cmd commands[] = {
	{ "qmp_capabilities", cmd_qmp_capabilities, { { "enable", ARG_STR_LIST, 0 } } },
	{ "query-version", cmd_query_version, { { 0 } } },
	{ "query-commands", cmd_query_commands, { { 0 } } },
	{ "query-status", cmd_query_status, { { 0 } } },
	{ "query-kvm", cmd_query_kvm, { { 0 } } },
	{ "query-cpus-fast", cmd_query_cpus_fast, { { 0 } } },
	{ "query-block", cmd_query_block, { { 0 } } },
	{ "stop", cmd_stop, { { 0 } } },
	{ "cont", cmd_cont, { { 0 } } },
	{ "system_powerdown", cmd_system_powerdown, { { 0 } } },
	{ "system_reset", cmd_system_reset, { { 0 } } },
	{ "quit", cmd_quit, { { 0 } } },
	{ "migrate", cmd_migrate, { { "uri", ARG_STR, 1 }, { "blk", ARG_BOOL, 0 },
				    { "inc", ARG_BOOL, 0 }, { "detach", ARG_BOOL, 0 },
				    { "resume", ARG_BOOL, 0 } } },
	{ "query-migrate", cmd_query_migrate, { { 0 } } },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static json_t *cmd_query_commands(struct qmp_server *q, struct qmp_client *c, json_t *args,
				  struct qmp_error *e)
{
	json_t *list = json_array();

	(void)q, (void)c, (void)args, (void)e;
	for (size_t i = 0; list && i < NCOMMANDS; i++) {
		if (json_array_append_new(list, json_pack("{s:s}", "name", commands[i].name))) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

static const struct qmp_cmd *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* ---- checks ------------------------------------------------------------- */

static const char *const type_names[] = {
	[ARG_STR] = "string", [ARG_BOOL] = "boolean", [ARG_STR_LIST] = "array",
};

static int arg_type_ok(const struct qmp_arg *a, json_t *v, struct qmp_error *e)
{
	json_t *el;
	size_t i;
	int ok = a->type == ARG_STR ? json_is_string(v)
	       : a->type == ARG_BOOL ? json_is_boolean(v) : json_is_array(v);

	if (!ok) {
		cmd_error(e, GENERIC, "Invalid parameter type for '%s', expected: %s", a->name,
			  type_names[a->type]);
		return 0;
	}
	if (a->type != ARG_STR_LIST)
		return 1;
	json_array_foreach(v, i, el) {
		if (!json_is_string(el)) {
			cmd_error(e, GENERIC, "Invalid parameter type for '%s[%zu]', expected: string",
				  a->name, i);
			return 0;
		}
	}
	return 1;
}

static int check_args(const struct qmp_cmd *cmd, json_t *args, struct qmp_error *e)
{
	const struct qmp_arg *a;
	const char *key;
	json_t *v;

	for (a = cmd->args; a->name; a++) {
		v = json_object_get(args, a->name);
		if (!v && a->required) {
			cmd_error(e, GENERIC, "Parameter '%s' is missing", a->name);
			return -1;
		}
		if (v && !arg_type_ok(a, v, e))
			return -1;
	}
	json_object_foreach(args, key, v) {
		for (a = cmd->args; a->name && strcmp(a->name, key); a++)
			;
		if (!a->name) {
			cmd_error(e, GENERIC, "Parameter '%s' is unexpected", key);
			return -1;
		}
	}
	return 0;
}

/* The command name, or NULL after an error (QEMU's qmp_dispatch_check_obj). */
static const char *check_envelope(json_t *req, struct qmp_error *e)
{
	const char *key, *name = NULL;
	json_t *v;

	if (!json_is_object(req)) {
		cmd_error(e, GENERIC, "QMP input must be a JSON object");
		return NULL;
	}
	json_object_foreach(req, key, v) {
		if (!strcmp(key, "execute") && !json_is_string(v)) {
			cmd_error(e, GENERIC, "QMP input member 'execute' must be a string");
			return NULL;
		}
		if (!strcmp(key, "execute")) {
			name = json_string_value(v);
		} else if (!strcmp(key, "arguments") && !json_is_object(v)) {
			cmd_error(e, GENERIC, "QMP input member 'arguments' must be an object");
			return NULL;
		} else if (strcmp(key, "arguments") && strcmp(key, "id")) {
			cmd_error(e, GENERIC, "QMP input member '%s' is unexpected", key);
			return NULL;
		}
	}
	if (!name)
		cmd_error(e, GENERIC, "QMP input lacks member 'execute'");
	return name;
}

static json_t *run(struct qmp_server *q, struct qmp_client *c, json_t *req, struct qmp_error *e)
{
	const char *name = check_envelope(req, e);
	const struct qmp_cmd *cmd;
	json_t *args, *none = NULL, *ret;

	if (!name)
		return NULL;
	cmd = find_command(name);
	if (!c->command_mode && (!cmd || cmd->fn != cmd_qmp_capabilities))
		return cmd_error(e, NOT_FOUND, "Expecting capabilities negotiation with "
				 "'qmp_capabilities'");
	if (!cmd)
		return cmd_error(e, NOT_FOUND, "The command %s has not been found", name);
	args = json_object_get(req, "arguments");
	if (!args)
		args = none = json_object();
	ret = args && !check_args(cmd, args, e) ? cmd->fn(q, c, args, e) : NULL;
	json_decref(none);
	return ret;
}

json_t *qmp_dispatch(struct qmp_server *q, struct qmp_client *c, json_t *req)
{
	struct qmp_error e = { .cls = GENERIC, .desc = "out of memory" };
	json_t *id = json_is_object(req) ? json_object_get(req, "id") : NULL;
	json_t *ret = run(q, c, req, &e);
	json_t *rsp = ret ? json_pack("{s:o}", "return", ret) : error_object(e.cls, e.desc);

	if (rsp && id)
		json_object_set(rsp, "id", id);
	return rsp;
}
