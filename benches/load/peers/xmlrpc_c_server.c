/* xmlrpc-c's Abyss server with the gateway's demo functions (src/demo.rs):
   pow, add, div, echo, plus xmlrpc-c's own system.* methods
   (system.listMethods, system.multicall, ...). A load benchmark peer:
   what a user who picks xmlrpc-c instead of the gateway runs.

   Usage: xmlrpc_c_server PORT   (listens on 127.0.0.1:PORT, path /RPC2)

   Build (Debian: apt-get install libxmlrpc-core-c3-dev):
     cc -O2 -o xmlrpc_c_server xmlrpc_c_server.c \
        $(xmlrpc-c-config abyss-server --cflags --libs)
   benches/load/peers/build.py does this for run.py.

   Process model: one process; Abyss (built with pthreads on Debian) runs
   one thread per accepted connection, at most max_conn at once; past that
   its accept loop waits for a connection to end and new ones queue in the
   listen backlog (max_conn_backlog). The defaults (15 connections, 30
   requests per keep-alive connection, 15 s keep-alive timeout) would leave
   49 of wrk's 64 connections waiting and close every connection after 30
   requests, so this sets 256 connections, a backlog of 1024, a million
   requests per connection and a 60 s timeout.

   Semantics follow the gateway's demo handlers: integers are 64-bit
   (int or i8 in; int out when it fits 32 bits, else i8), an overflow or a
   division by zero is fault -32500, operands of the wrong type -32602.
   xmlrpc-c answers its own faults (unknown method, bad XML) with its own
   codes (-506, -503, ...). What stays xmlrpc-c's: it prints doubles to 15
   or 16 significant digits, so an echoed double may come back changed in
   its last digit; it cannot gzip answers; its system.listMethods lists its
   own system.* methods too (12 names). */

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <xmlrpc-c/base.h>
#include <xmlrpc-c/server.h>
#include <xmlrpc-c/server_abyss.h>

#define APPLICATION_ERROR (-32500)
#define INVALID_PARAMS (-32602)

enum kind { OTHER, INT, DOUBLE };

/* The type names the gateway puts in its faults. */
static const char *type_name(xmlrpc_value *v) {
    switch (xmlrpc_value_type(v)) {
    case XMLRPC_TYPE_INT: return "int";
    case XMLRPC_TYPE_I8: return "i8";
    case XMLRPC_TYPE_BOOL: return "boolean";
    case XMLRPC_TYPE_DOUBLE: return "double";
    case XMLRPC_TYPE_DATETIME: return "dateTime.iso8601";
    case XMLRPC_TYPE_STRING: return "string";
    case XMLRPC_TYPE_BASE64: return "base64";
    case XMLRPC_TYPE_ARRAY: return "array";
    case XMLRPC_TYPE_STRUCT: return "struct";
    case XMLRPC_TYPE_NIL: return "nil";
    default: return "unknown";
    }
}

/* Reads a number: INT with *i set, DOUBLE with *d set, or OTHER. */
static enum kind number(xmlrpc_env *env, xmlrpc_value *v, int64_t *i, double *d) {
    switch (xmlrpc_value_type(v)) {
    case XMLRPC_TYPE_INT: {
        int x;
        xmlrpc_read_int(env, v, &x);
        *i = x;
        *d = (double)x;
        return INT;
    }
    case XMLRPC_TYPE_I8: {
        xmlrpc_int64 x;
        xmlrpc_read_i8(env, v, &x);
        *i = x;
        *d = (double)x;
        return INT;
    }
    case XMLRPC_TYPE_DOUBLE:
        xmlrpc_read_double(env, v, d);
        return DOUBLE;
    default:
        return OTHER;
    }
}

static xmlrpc_value *int_value(xmlrpc_env *env, int64_t x) {
    if (x >= INT32_MIN && x <= INT32_MAX)
        return xmlrpc_int_new(env, (int)x);
    return xmlrpc_i8_new(env, x);
}

static xmlrpc_value *finite_value(xmlrpc_env *env, const char *name, double x) {
    if (!isfinite(x)) {
        xmlrpc_env_set_fault_formatted(env, APPLICATION_ERROR, "%s(): result is not a finite number", name);
        return NULL;
    }
    return xmlrpc_double_new(env, x);
}

static xmlrpc_value *type_error(xmlrpc_env *env, const char *name, xmlrpc_value *x, xmlrpc_value *y) {
    xmlrpc_env_set_fault_formatted(env, INVALID_PARAMS, "%s(): unsupported operand types %s and %s", name,
                                   type_name(x), type_name(y));
    return NULL;
}

/* The params of a call that takes `want` of them, borrowed into out[]. */
static int params(xmlrpc_env *env, xmlrpc_value *array, const char *name, int want, xmlrpc_value **out) {
    int n = xmlrpc_array_size(env, array);
    if (env->fault_occurred)
        return 0;
    if (n != want) {
        xmlrpc_env_set_fault_formatted(env, INVALID_PARAMS, "%s() takes %d parameter%s (%d given)", name, want,
                                       want == 1 ? "" : "s", n);
        return 0;
    }
    for (int k = 0; k < n; k++) {
        /* xmlrpc_array_get_item borrows (no reference taken). */
        out[k] = xmlrpc_array_get_item(env, array, k);
        if (env->fault_occurred)
            return 0;
    }
    return 1;
}

/* Rust's i64::checked_pow, step for step. */
static int checked_pow(int64_t base, uint32_t exp, int64_t *out) {
    int64_t acc = 1;
    if (exp == 0) {
        *out = 1;
        return 1;
    }
    while (exp > 1) {
        if (exp & 1) {
            if (__builtin_mul_overflow(acc, base, &acc))
                return 0;
        }
        exp /= 2;
        if (__builtin_mul_overflow(base, base, &base))
            return 0;
    }
    return !__builtin_mul_overflow(acc, base, out);
}

static xmlrpc_value *m_pow(xmlrpc_env *env, xmlrpc_value *array, void *server_info, void *call_info) {
    (void)server_info, (void)call_info;
    xmlrpc_value *p[2];
    int64_t a = 0, b = 0;
    double x = 0, y = 0;
    if (!params(env, array, "pow", 2, p))
        return NULL;
    enum kind ka = number(env, p[0], &a, &x), kb = number(env, p[1], &b, &y);
    if (ka == INT && kb == INT && b >= 0) {
        int64_t r;
        if (b > UINT32_MAX || !checked_pow(a, (uint32_t)b, &r)) {
            xmlrpc_env_set_fault(env, APPLICATION_ERROR, "pow(): result exceeds 64-bit integers");
            return NULL;
        }
        return int_value(env, r);
    }
    if (ka == OTHER || kb == OTHER)
        return type_error(env, "pow", p[0], p[1]);
    return finite_value(env, "pow", pow(x, y));
}

static xmlrpc_value *m_add(xmlrpc_env *env, xmlrpc_value *array, void *server_info, void *call_info) {
    (void)server_info, (void)call_info;
    xmlrpc_value *p[2];
    int64_t a = 0, b = 0;
    double x = 0, y = 0;
    if (!params(env, array, "add", 2, p))
        return NULL;
    xmlrpc_type ta = xmlrpc_value_type(p[0]), tb = xmlrpc_value_type(p[1]);
    if (ta == XMLRPC_TYPE_STRING && tb == XMLRPC_TYPE_STRING) {
        size_t la, lb;
        const char *sa, *sb;
        xmlrpc_read_string_lp(env, p[0], &la, &sa);
        if (env->fault_occurred)
            return NULL;
        xmlrpc_read_string_lp(env, p[1], &lb, &sb);
        if (env->fault_occurred) {
            free((void *)sa);
            return NULL;
        }
        char *s = malloc(la + lb + 1);
        memcpy(s, sa, la);
        memcpy(s + la, sb, lb);
        xmlrpc_value *r = xmlrpc_string_new_lp(env, la + lb, s);
        free(s);
        free((void *)sa);
        free((void *)sb);
        return r;
    }
    if (ta == XMLRPC_TYPE_ARRAY && tb == XMLRPC_TYPE_ARRAY) {
        xmlrpc_value *r = xmlrpc_array_new(env);
        for (int k = 0; k < 2 && !env->fault_occurred; k++) {
            int n = xmlrpc_array_size(env, p[k]);
            for (int j = 0; j < n && !env->fault_occurred; j++)
                xmlrpc_array_append_item(env, r, xmlrpc_array_get_item(env, p[k], j));
        }
        if (env->fault_occurred) {
            xmlrpc_DECREF(r);
            return NULL;
        }
        return r;
    }
    enum kind ka = number(env, p[0], &a, &x), kb = number(env, p[1], &b, &y);
    if (ka == INT && kb == INT) {
        int64_t r;
        if (__builtin_add_overflow(a, b, &r)) {
            xmlrpc_env_set_fault(env, APPLICATION_ERROR, "add(): result exceeds 64-bit integers");
            return NULL;
        }
        return int_value(env, r);
    }
    if (ka == OTHER || kb == OTHER)
        return type_error(env, "add", p[0], p[1]);
    return finite_value(env, "add", x + y);
}

static xmlrpc_value *m_div(xmlrpc_env *env, xmlrpc_value *array, void *server_info, void *call_info) {
    (void)server_info, (void)call_info;
    xmlrpc_value *p[2];
    int64_t a = 0, b = 0;
    double x = 0, y = 0;
    if (!params(env, array, "div", 2, p))
        return NULL;
    enum kind ka = number(env, p[0], &a, &x), kb = number(env, p[1], &b, &y);
    if (ka == INT && kb == INT) {
        if (b == 0) {
            xmlrpc_env_set_fault(env, APPLICATION_ERROR, "div(): integer division by zero");
            return NULL;
        }
        if (a == INT64_MIN && b == -1) {
            xmlrpc_env_set_fault(env, APPLICATION_ERROR, "div(): result exceeds 64-bit integers");
            return NULL;
        }
        /* Python's //: rounds toward negative infinity. */
        int64_t q = a / b;
        if (a % b != 0 && ((a < 0) != (b < 0)))
            q -= 1;
        return int_value(env, q);
    }
    if (ka == OTHER || kb == OTHER)
        return type_error(env, "div", p[0], p[1]);
    if (y == 0.0) {
        xmlrpc_env_set_fault(env, APPLICATION_ERROR, "div(): float division by zero");
        return NULL;
    }
    return finite_value(env, "div", floor(x / y));
}

static xmlrpc_value *m_echo(xmlrpc_env *env, xmlrpc_value *array, void *server_info, void *call_info) {
    (void)server_info, (void)call_info;
    xmlrpc_value *p[1];
    if (!params(env, array, "echo", 1, p))
        return NULL;
    xmlrpc_INCREF(p[0]);
    return p[0];
}

static void die(xmlrpc_env *env, const char *what) {
    if (env->fault_occurred) {
        fprintf(stderr, "xmlrpc_c_server: %s: %s (%d)\n", what, env->fault_string, env->fault_code);
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    xmlrpc_env env;
    xmlrpc_env_init(&env);
    /* The default 512 KiB request limit is below workload 2's 776 KB call. */
    xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, 64 * 1024 * 1024);

    xmlrpc_server_abyss_global_init(&env);
    die(&env, "xmlrpc_server_abyss_global_init");
    xmlrpc_registry *registry = xmlrpc_registry_new(&env);
    die(&env, "xmlrpc_registry_new");
    /* Introspection (system.listMethods, methodHelp, methodSignature, ...)
       and system.multicall are xmlrpc-c's built-ins, on by default. */
    struct xmlrpc_method_info3 methods[] = {
        {"pow", m_pow, NULL, 0, "?", "pow(x, y) => x raised to the power y (an int when both are ints and y >= 0)."},
        {"add", m_add, NULL, 0, "?", "add(x, y) => x + y, for two numbers, two strings or two arrays."},
        {"div", m_div, NULL, 0, "?", "div(x, y) => x // y, floor division; dividing by zero is a fault."},
        {"echo", m_echo, NULL, 0, "?", "echo(v) => v, unchanged."},
    };
    for (size_t k = 0; k < sizeof methods / sizeof methods[0]; k++) {
        xmlrpc_registry_add_method3(&env, registry, &methods[k]);
        die(&env, "xmlrpc_registry_add_method3");
    }

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    xmlrpc_server_abyss_parms parms;
    memset(&parms, 0, sizeof parms);
    parms.config_file_name = NULL;
    parms.registryP = registry;
    parms.port_number = (unsigned int)port;
    parms.log_file_name = NULL;
    parms.keepalive_timeout = 60;
    parms.keepalive_max_conn = 1000000;
    parms.timeout = 60;
    parms.dont_advertise = 1;
    parms.uri_path = "/RPC2";
    parms.chunk_response = 0;
    parms.sockaddr_p = (const struct sockaddr *)&addr;
    parms.sockaddrlen = sizeof addr;
    parms.max_conn = 256;
    parms.max_conn_backlog = 1024;

    fprintf(stderr, "xmlrpc-c ready on 127.0.0.1:%d/RPC2\n", port);
    xmlrpc_server_abyss(&env, &parms, XMLRPC_APSIZE(max_conn_backlog));
    die(&env, "xmlrpc_server_abyss");
    return 0;
}
