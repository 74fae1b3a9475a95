/*
 * The fast Matomo of `make bench`: answers Matomo's HTTP API from memory,
 * so that the backend is not what a benchmark of the module measures.
 *
 * Why a server of its own: wrk, the module's Apache, the reference server
 * and this backend share the same 2 cores.  The former backend, a mod_lua
 * handler in a second Apache, cost about 75 µs of CPU per answer (as much
 * as half of what the module costs per call), taken from the servers under
 * test.  This one is a single thread around epoll: an answer is one read,
 * one write and a log line appended to a buffer in memory, about 10 µs of
 * CPU, nearly all of it the kernel's loopback TCP (1 to 2 µs in user
 * space, measured with wrk on that machine, busy with other work).
 *
 * Usage: BENCH_TOKEN=... fast-matomo PORT ANSWERS_DIR LOGFILE
 *
 * It listens on 127.0.0.1:PORT.  A POST to /index.php of a form
 * (application/x-www-form-urlencoded, as the module sends it:
 * module=API&format=JSON&method=...&token_auth=...) is answered
 *   401 with Matomo's HTML page when token_auth is missing or is not
 *       $BENCH_TOKEN (the token is never printed nor logged);
 *   200 with the bytes of ANSWERS_DIR/<method>.json when module=API,
 *       format=JSON and that file exists (the files are read at start);
 *   200 with a Matomo error object otherwise.
 * Another method gets 405, another path 404.
 *
 * LOGFILE gets one line per request, as Apache's
 * LogFormat "%{remote}p %k %>s \"%{User-Agent}i\"" writes it: the client's
 * port, the number of earlier requests on its connection (0: a new
 * connection), the status, the User-Agent.  The lines are kept in memory
 * and written, whole lines only, after 50 ms without any event, when the
 * buffer is full, and at exit (SIGTERM, SIGINT).
 *
 * HTTP/1.1: keep-alive (Connection: close honoured, HTTP/1.0 kept alive
 * only when it asks), pipelined requests, requests and bodies arriving in
 * pieces, Expect: 100-continue.  Headers up to 16 kB (else 400) and bodies
 * up to 64 kB (else 413) with a Content-Length; a Transfer-Encoding gets
 * 501.  An error closes the connection.  Idle connections are kept open.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
    HEAD_MAX   = 16 * 1024,        /* request line and headers */
    BODY_MAX   = 64 * 1024,
    IN_START   = 4096,             /* first size of a connection's input */
    IN_MAX     = HEAD_MAX + BODY_MAX,
    OUT_HIGH   = 64 * 1024,        /* pending output that pauses a client */
    ANSWER_MAX = 1024 * 1024,      /* largest answer file */
    LOG_SIZE   = 1024 * 1024,
    LOG_LINE   = 512,              /* a log line without its User-Agent */
    IDLE_MS    = 50,               /* idle time before the log is written */
    BACKLOG    = 1024,
    EVENTS     = 256
};

static const char UNAUTHORIZED[] =
    "<!DOCTYPE html><html><body>Error: You must be logged in "
    "to access this functionality.</body></html>";
static const char NO_ANSWER[] =
    "{\"result\":\"error\","
    "\"message\":\"bench backend: no answer for this method\"}";
static const char JSON_TYPE[] = "application/json; charset=utf-8";
static const char HTML_TYPE[] = "text/html; charset=utf-8";
static const char TEXT_TYPE[] = "text/plain; charset=utf-8";
static const char FORM_TYPE[] = "application/x-www-form-urlencoded";

/* --- failures ------------------------------------------------------------ */

static void die(const char *what)
{
    fprintf(stderr, "fast-matomo: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void *grow(void *p, size_t size)
{
    void *q = realloc(p, size);
    if (q == NULL)
        die("out of memory");
    return q;
}

/* --- the answers, read at start ------------------------------------------- */

struct answer {
    char *method;
    size_t method_len;
    char *body;
    size_t body_len;
    struct answer *next;
};

static struct answer *answers;

static bool is_alnum(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
        || (ch >= '0' && ch <= '9');
}

/* Module.action: ^[A-Za-z0-9]+\.[A-Za-z0-9]+$ */
static bool is_method(const char *s, size_t len)
{
    size_t i, dots = 0;
    for (i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (i == 0 || i == len - 1 || ++dots > 1)
                return false;
        } else if (!is_alnum(s[i])) {
            return false;
        }
    }
    return dots == 1;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *body = NULL;
    size_t n = 0;
    if (f == NULL)
        die(path);
    body = grow(NULL, ANSWER_MAX + 1);
    n = fread(body, 1, ANSWER_MAX + 1, f);
    if (ferror(f) || n > ANSWER_MAX) {
        fprintf(stderr, "fast-matomo: %s: unreadable or over %d bytes\n",
                path, ANSWER_MAX);
        exit(1);
    }
    fclose(f);
    *len = n;
    return grow(body, n + 1);
}

static void load_answers(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (d == NULL)
        die(dir);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        struct answer *a;
        char path[4096];
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0
            || !is_method(e->d_name, len - 5))
            continue;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name)
            >= sizeof path)
            continue;
        a = grow(NULL, sizeof *a);
        a->method_len = len - 5;
        a->method = grow(NULL, len - 4);
        memcpy(a->method, e->d_name, len - 5);
        a->method[len - 5] = '\0';
        a->body = read_file(path, &a->body_len);
        a->next = answers;
        answers = a;
    }
    closedir(d);
}

static const struct answer *find_answer(const char *method, size_t len)
{
    const struct answer *a;
    for (a = answers; a != NULL; a = a->next)
        if (a->method_len == len && memcmp(a->method, method, len) == 0)
            return a;
    return NULL;
}

/* --- the access log ----------------------------------------------------- */

static int log_fd = -1;
static char log_buf[LOG_SIZE];
static size_t log_len;

static void log_flush(void)
{
    size_t done = 0;
    while (done < log_len) {
        ssize_t n = write(log_fd, log_buf + done, log_len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("writing the log");
        done += (size_t)n;
    }
    log_len = 0;
}

/* Makes room for len more bytes: the file only ever gets whole lines. */
static void log_reserve(size_t len)
{
    if (log_len + len > sizeof log_buf)
        log_flush();
}

/* Apache's escaping of a logged header: \" \\ and \xhh for the others. */
static size_t escape_agent(char *to, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, n = 0;
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            to[n++] = '\\';
            to[n++] = (char)ch;
        } else if (ch < 0x20 || ch >= 0x7f) {
            to[n++] = '\\';
            to[n++] = 'x';
            to[n++] = hex[ch >> 4];
            to[n++] = hex[ch & 15];
        } else {
            to[n++] = (char)ch;
        }
    }
    return n;
}

static void log_request(unsigned port, unsigned long served, int status,
                        const char *agent, size_t agent_len)
{
    int n;
    if (agent == NULL) {
        agent = "-";
        agent_len = 1;
    }
    log_reserve(LOG_LINE + 4 * agent_len);
    n = snprintf(log_buf + log_len, LOG_LINE, "%u %lu %d \"", port, served,
                 status);
    log_len += (size_t)n;
    log_len += escape_agent(log_buf + log_len, agent, agent_len);
    log_buf[log_len++] = '"';
    log_buf[log_len++] = '\n';
}

/* --- connections ---------------------------------------------------------- */

struct conn {
    int fd;
    unsigned port;             /* the client's, for the log */
    unsigned long served;      /* requests answered so far: Apache's %k */
    char *in;                  /* received bytes in [in_off, in_len) */
    size_t in_off, in_len, in_cap;
    char *out;                 /* bytes to send in [out_off, out_len) */
    size_t out_off, out_len, out_cap;
    uint32_t events;           /* what epoll watches for */
    bool continued;            /* 100 Continue sent for the pending request */
    bool eof;                  /* the client will send nothing more */
    bool closing;              /* close once the output is sent */
    struct conn *prev, *next;  /* the open connections */
};

static int epoll_fd = -1;
static struct conn *conns;

static void conn_close(struct conn *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    close(c->fd);              /* also leaves the epoll set */
    free(c->in);
    free(c->out);
    free(c);
}

static void watch(struct conn *c, uint32_t events)
{
    struct epoll_event ev;
    if (c->events == events)
        return;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.ptr = c;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        die("epoll_ctl");
    c->events = events;
}

static void out_append(struct conn *c, const char *s, size_t len)
{
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + len)
            cap *= 2;
        c->out = grow(c->out, cap);
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, s, len);
    c->out_len += len;
}

/* Sends what it can: 1 all sent, 0 the rest waits for EPOLLOUT, -1 error. */
static int out_flush(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    return 1;
}

/* Reads what is there: false when the connection failed. */
static bool conn_read(struct conn *c)
{
    ssize_t n;
    if (c->in_off > 0) {
        memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
        c->in_len -= c->in_off;
        c->in_off = 0;
    }
    if (c->in_len == c->in_cap) {
        size_t cap = c->in_cap ? c->in_cap * 2 : IN_START;
        if (c->in_cap >= IN_MAX)
            return false;      /* cannot happen: a request that long is over */
        c->in_cap = cap < IN_MAX ? cap : IN_MAX;
        c->in = grow(c->in, c->in_cap);
    }
    do
        n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        c->in_len += (size_t)n;
    else if (n == 0)
        c->eof = true;
    else if (errno != EAGAIN && errno != EWOULDBLOCK)
        return false;
    return true;
}

/* --- requests ----------------------------------------------------------- */

struct request {
    const char *method, *path, *agent, *ctype;
    size_t method_len, path_len, agent_len, ctype_len;
    size_t head_len;           /* request line and headers, blank line too */
    size_t body_len;
    bool http10;
    bool keep_alive_asked;     /* Connection: keep-alive */
    bool keep_alive;
    bool expect_continue;
    int error;                 /* a status that ends the connection, or 0 */
};

static bool token_is(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

/* Where the head ends (after its blank line), or 0 if not received yet. */
static size_t head_end(const char *s, size_t len)
{
    const char *p = s, *end = s + len;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        p++;
        if (p < end && *p == '\n')
            return (size_t)(p + 1 - s);
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
            return (size_t)(p + 2 - s);
    }
    return 0;
}

/* "close" and "keep-alive" in a Connection header's list. */
static void read_connection(const char *v, size_t len, bool *close_,
                            bool *keep)
{
    size_t i = 0;
    while (i < len) {
        size_t start, stop;
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        start = i;
        while (i < len && v[i] != ',')
            i++;
        stop = i;
        while (stop > start && (v[stop - 1] == ' ' || v[stop - 1] == '\t'))
            stop--;
        if (token_is(v + start, stop - start, "close"))
            *close_ = true;
        else if (token_is(v + start, stop - start, "keep-alive"))
            *keep = true;
    }
}

/* A Content-Length: digits only, several copies only when equal. */
static void read_length(struct request *rq, const char *v, size_t len,
                        bool *seen)
{
    size_t i, n = 0;
    if (len == 0)
        rq->error = 400;
    for (i = 0; i < len && rq->error == 0; i++) {
        if (v[i] < '0' || v[i] > '9')
            rq->error = 400;
        else if ((n = n * 10 + (size_t)(v[i] - '0')) > BODY_MAX)
            rq->error = 413;
    }
    if (rq->error == 0 && *seen && n != rq->body_len)
        rq->error = 400;
    rq->body_len = n;
    *seen = true;
}

/* One header line, name and value split at the colon and trimmed. */
static void read_header(struct request *rq, const char *line, size_t len,
                        bool *close_, bool *length_seen)
{
    const char *colon = memchr(line, ':', len);
    const char *v;
    size_t name_len, v_len;
    if (colon == NULL || colon == line || line[0] == ' ' || line[0] == '\t') {
        rq->error = 400;
        return;
    }
    name_len = (size_t)(colon - line);
    v = colon + 1;
    v_len = len - name_len - 1;
    while (v_len > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        v_len--;
    }
    while (v_len > 0 && (v[v_len - 1] == ' ' || v[v_len - 1] == '\t'))
        v_len--;
    if (token_is(line, name_len, "content-length"))
        read_length(rq, v, v_len, length_seen);
    else if (token_is(line, name_len, "transfer-encoding"))
        rq->error = 501;
    else if (token_is(line, name_len, "connection"))
        read_connection(v, v_len, close_, &rq->keep_alive_asked);
    else if (token_is(line, name_len, "user-agent")) {
        rq->agent = v;
        rq->agent_len = v_len;
    } else if (token_is(line, name_len, "content-type")) {
        rq->ctype = v;
        rq->ctype_len = v_len;
    } else if (token_is(line, name_len, "expect"))
        rq->expect_continue = token_is(v, v_len, "100-continue");
}

/* The request line: METHOD SP TARGET SP HTTP/1.x.  False if malformed. */
static bool read_request_line(struct request *rq, const char *line,
                              size_t len)
{
    const char *sp1 = memchr(line, ' ', len), *sp2, *query;
    const char *version;
    if (sp1 == NULL || sp1 == line)
        return false;
    sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line));
    if (sp2 == NULL || sp2 == sp1 + 1)
        return false;
    version = sp2 + 1;
    if (len - (size_t)(version - line) != 8
        || memcmp(version, "HTTP/1.", 7) != 0
        || (version[7] != '0' && version[7] != '1'))
        return false;
    rq->http10 = version[7] == '0';
    rq->method = line;
    rq->method_len = (size_t)(sp1 - line);
    rq->path = sp1 + 1;
    query = memchr(rq->path, '?', (size_t)(sp2 - rq->path));
    rq->path_len = (size_t)((query ? query : sp2) - rq->path);
    return true;
}

/* The head in s[0, head_len): fills rq, or sets rq->error. */
static void read_head(struct request *rq, const char *s, size_t head_len)
{
    const char *p = s, *end = s + head_len;
    bool close_ = false, length_seen = false;
    bool first = true;
    while (p < end && rq->error == 0) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)(nl - p);
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (len == 0)
            break;             /* the blank line */
        if (first && !read_request_line(rq, p, len))
            rq->error = 400;
        else if (!first)
            read_header(rq, p, len, &close_, &length_seen);
        first = false;
        p = nl + 1;
    }
    rq->keep_alive = !close_ && (!rq->http10 || rq->keep_alive_asked);
}

/* --- the answer ----------------------------------------------------------- */

struct form {
    const char *module, *format, *method, *token;
    size_t module_len, format_len, method_len, token_len;
};

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Decodes %XX and + in place; answers the decoded length. */
static size_t url_decode(char *s, size_t len)
{
    size_t i, n = 0;
    for (i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '+') {
            s[n++] = ' ';
        } else if (s[i] == '%' && i + 2 < len
                   && (hi = hex_value(s[i + 1])) >= 0
                   && (lo = hex_value(s[i + 2])) >= 0) {
            s[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            s[n++] = s[i];
        }
    }
    return n;
}

/* s[0, len) is word, byte for byte. */
static bool equals(const char *s, size_t len, const char *word)
{
    return s != NULL && strlen(word) == len && memcmp(s, word, len) == 0;
}

/* One key=value pair of the form; a later copy of a key wins (as PHP's). */
static void form_pair(struct form *f, char *pair, size_t len)
{
    char *eq = memchr(pair, '=', len);
    char *value = eq ? eq + 1 : pair + len;
    size_t key_len = url_decode(pair, (size_t)((eq ? eq : pair + len) - pair));
    size_t value_len = url_decode(value, (size_t)(pair + len - value));
    const char **slot = NULL;
    size_t *slot_len = NULL;
    if (equals(pair, key_len, "module")) {
        slot = &f->module;
        slot_len = &f->module_len;
    } else if (equals(pair, key_len, "format")) {
        slot = &f->format;
        slot_len = &f->format_len;
    } else if (equals(pair, key_len, "method")) {
        slot = &f->method;
        slot_len = &f->method_len;
    } else if (equals(pair, key_len, "token_auth")) {
        slot = &f->token;
        slot_len = &f->token_len;
    }
    if (slot != NULL) {
        *slot = value;
        *slot_len = value_len;
    }
}

/* The body, decoded in place (it is consumed with its request). */
static void read_form(struct form *f, char *body, size_t len)
{
    char *p = body, *end = body + len;
    memset(f, 0, sizeof *f);
    while (p < end) {
        char *amp = memchr(p, '&', (size_t)(end - p));
        char *stop = amp ? amp : end;
        if (stop > p)
            form_pair(f, p, (size_t)(stop - p));
        p = stop + 1;
    }
}

static const char *bench_token;
static size_t bench_token_len;

static bool is_form(const struct request *rq)
{
    size_t n = sizeof FORM_TYPE - 1;
    return rq->ctype != NULL && rq->ctype_len >= n
        && strncasecmp(rq->ctype, FORM_TYPE, n) == 0
        && (rq->ctype_len == n || rq->ctype[n] == ';' || rq->ctype[n] == ' ');
}

struct reply {
    int status;
    const char *type;
    const char *body;
    size_t body_len;
};

/* What Matomo (as recorded) would answer the form. */
static void answer_form(struct reply *r, const struct form *f)
{
    const struct answer *a = NULL;
    if (f->token == NULL || f->token_len != bench_token_len
        || memcmp(f->token, bench_token, bench_token_len) != 0) {
        *r = (struct reply){ 401, HTML_TYPE, UNAUTHORIZED,
                             sizeof UNAUTHORIZED - 1 };
        return;
    }
    if (equals(f->module, f->module_len, "API")
        && equals(f->format, f->format_len, "JSON") && f->method != NULL)
        a = find_answer(f->method, f->method_len);
    if (a != NULL)
        *r = (struct reply){ 200, JSON_TYPE, a->body, a->body_len };
    else
        *r = (struct reply){ 200, JSON_TYPE, NO_ANSWER, sizeof NO_ANSWER - 1 };
}

static void answer_request(struct reply *r, const struct request *rq,
                           char *body)
{
    static const char not_post[] = "Only POST is answered here.\n";
    static const char not_found[] = "Not found: the API is /index.php.\n";
    struct form f;
    if (!equals(rq->method, rq->method_len, "POST")) {
        *r = (struct reply){ 405, TEXT_TYPE, not_post, sizeof not_post - 1 };
        return;
    }
    if (!(rq->path_len == 10 && memcmp(rq->path, "/index.php", 10) == 0)) {
        *r = (struct reply){ 404, TEXT_TYPE, not_found, sizeof not_found - 1 };
        return;
    }
    if (is_form(rq))
        read_form(&f, body, rq->body_len);
    else
        memset(&f, 0, sizeof f);   /* as mod_lua's parsebody: no form */
    answer_form(r, &f);
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    default:  return "Not Implemented";
    }
}

/* Status line, headers and (but for HEAD) the body, into the output.
 * A client that asks for keep-alive is told, as Apache tells it, how long
 * an idle connection stays open at least: 15 s, as the former backend (an
 * Apache with KeepAliveTimeout 15) said; this one keeps it until the
 * client closes it.  Node's fetch keeps an idle connection that long
 * (minus a second or two) instead of 4 s, so the reference server's
 * connections outlast the runs it takes turns with. */
static void send_reply(struct conn *c, const struct reply *r, bool keep_alive,
                       bool keep_alive_asked, bool head_only)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\n%s%s\r\n",
                     r->status, reason(r->status), r->type, r->body_len,
                     r->status == 405 ? "Allow: POST\r\n" : "",
                     !keep_alive ? "Connection: close\r\n"
                     : keep_alive_asked ? "Connection: Keep-Alive\r\n"
                                          "Keep-Alive: timeout=15\r\n"
                     : "");
    out_append(c, head, (size_t)n);
    if (!head_only)
        out_append(c, r->body, r->body_len);
}

/* An error that ends the connection (the request may be incomplete). */
static void refuse(struct conn *c, int status, const struct request *rq)
{
    static const char text[] = "The bench backend cannot read this request.\n";
    struct reply r = { status, TEXT_TYPE, text, sizeof text - 1 };
    send_reply(c, &r, false, false, false);
    log_request(c->port, c->served++, status, rq ? rq->agent : NULL,
                rq ? rq->agent_len : 0);
    c->closing = true;
}

/* Handles the first request of the input if it is all there: false when
 * it is not (more input needed) or the connection is closing. */
static bool handle_one(struct conn *c)
{
    struct request rq;
    struct reply r;
    char *s;
    size_t avail;
    while (c->in_off < c->in_len
           && (c->in[c->in_off] == '\r' || c->in[c->in_off] == '\n'))
        c->in_off++;           /* blank lines between requests */
    s = c->in + c->in_off;
    avail = c->in_len - c->in_off;
    memset(&rq, 0, sizeof rq);
    if ((rq.head_len = head_end(s, avail)) == 0 || rq.head_len > HEAD_MAX) {
        if (avail > HEAD_MAX)
            refuse(c, 400, NULL);
        return false;
    }
    read_head(&rq, s, rq.head_len);
    if (rq.error != 0) {
        refuse(c, rq.error, &rq);
        return false;
    }
    if (avail < rq.head_len + rq.body_len) {
        if (rq.expect_continue && !c->continued) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            out_append(c, cont, sizeof cont - 1);
            c->continued = true;
        }
        return false;
    }
    answer_request(&r, &rq, s + rq.head_len);
    send_reply(c, &r, rq.keep_alive, rq.keep_alive_asked,
               equals(rq.method, rq.method_len, "HEAD"));
    log_request(c->port, c->served++, r.status, rq.agent, rq.agent_len);
    c->in_off += rq.head_len + rq.body_len;
    c->continued = false;
    if (!rq.keep_alive)
        c->closing = true;
    return !c->closing;
}

/* Answers the complete requests received, sends, and decides what to wait
 * for.  Handling pauses while OUT_HIGH bytes wait to be sent. */
static void advance(struct conn *c)
{
    for (;;) {
        bool paused = false;
        int sent;
        while (!c->closing) {
            if (c->out_len - c->out_off >= OUT_HIGH) {
                paused = true;
                break;
            }
            if (!handle_one(c))
                break;
        }
        if (c->eof && !paused)
            c->closing = true; /* a partial request at EOF is dropped */
        sent = out_flush(c);
        if (sent < 0 || (sent > 0 && c->closing)) {
            conn_close(c);
            return;
        }
        if (sent == 0) {
            watch(c, EPOLLOUT);
            return;
        }
        if (!paused)
            break;
    }
    watch(c, EPOLLIN);
}

static void on_conn_event(struct conn *c, uint32_t events)
{
    if ((c->events & EPOLLIN) && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        && !conn_read(c)) {
        conn_close(c);
        return;
    }
    advance(c);
}

/* --- the listener and the loop -------------------------------------------- */

static char listener_tag, signal_tag;  /* epoll data of the two other fds */

static void add_fd(int fd, void *ptr)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = ptr;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
        die("epoll_ctl");
}

static int listen_on(int port)
{
    struct sockaddr_in sa;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("bind");
    if (listen(fd, BACKLOG) < 0)
        die("listen");
    return fd;
}

static void accept_all(int listener)
{
    for (;;) {
        struct sockaddr_in sa;
        socklen_t sa_len = sizeof sa;
        struct conn *c;
        int one = 1;
        int fd = accept4(listener, (struct sockaddr *)&sa, &sa_len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
                && errno != ECONNABORTED)
                fprintf(stderr, "fast-matomo: accept: %s\n", strerror(errno));
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c = grow(NULL, sizeof *c);
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->port = ntohs(sa.sin_port);
        c->events = EPOLLIN;
        c->next = conns;
        if (conns != NULL)
            conns->prev = c;
        conns = c;
        add_fd(fd, c);
    }
}

/* SIGTERM and SIGINT arrive as a readable fd, between two events. */
static int signals_fd(void)
{
    sigset_t set;
    int fd;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        die("sigprocmask");
    if ((fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
        die("signalfd");
    return fd;
}

static int port_arg(const char *s)
{
    char *end;
    long port = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || port < 1 || port > 65535) {
        fprintf(stderr, "fast-matomo: bad port %s\n", s);
        exit(2);
    }
    return (int)port;
}

static void setup(int argc, char **argv, int *listener, int *sig)
{
    int port;
    if (argc != 4) {
        fprintf(stderr, "usage: BENCH_TOKEN=... fast-matomo PORT"
                " ANSWERS_DIR LOGFILE\n");
        exit(2);
    }
    port = port_arg(argv[1]);
    bench_token = getenv("BENCH_TOKEN");
    if (bench_token == NULL || *bench_token == '\0') {
        fprintf(stderr, "fast-matomo: BENCH_TOKEN is not set\n");
        exit(2);
    }
    bench_token_len = strlen(bench_token);
    load_answers(argv[2]);
    log_fd = open(argv[3], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0)
        die(argv[3]);
    *sig = signals_fd();
    *listener = listen_on(port);
    if ((epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        die("epoll_create1");
    add_fd(*listener, &listener_tag);
    add_fd(*sig, &signal_tag);
}

int main(int argc, char **argv)
{
    struct epoll_event events[EVENTS];
    int listener, sig;
    setup(argc, argv, &listener, &sig);
    for (;;) {
        int i, n = epoll_wait(epoll_fd, events, EVENTS,
                              log_len > 0 ? IDLE_MS : -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("epoll_wait");
        if (n == 0)
            log_flush();
        for (i = 0; i < n; i++) {
            void *ptr = events[i].data.ptr;
            if (ptr == &listener_tag) {
                accept_all(listener);
            } else if (ptr == &signal_tag) {
                log_flush();
                while (conns != NULL)
                    conn_close(conns);
                return 0;
            } else {
                on_conn_event(ptr, events[i].events);
            }
        }
    }
}
