/*
 * heap-probe: preloaded into the soak's Apache (make soak, plain build) to
 * tell a leak from memory that is merely kept.
 *
 * RSS of a child with 96 worker threads keeps rising for minutes without a
 * leak: each thread fills its own glibc tcache, its pool allocator's free
 * list (MaxMemFree), its stack, and the heap fragments.  What a leak raises
 * is the heap in use, so each child writes glibc's mallinfo2() figures once
 * a second to $HEAP_PROBE_DIR/<pid>; t/bin/soak reads them at quiet moments
 * (no request in flight) with tcache off and a small MaxMemFree, so that
 * "in use" holds only memory someone still owns.
 *
 * Apache forks its children: a thread started in the parent would not be in
 * them, so the sampling thread starts in each child (pthread_atfork).  The
 * file is opened anew each time: the child changes user after the fork.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void probe_write(const char *dir)
{
    char path[4096];
    struct mallinfo2 m = mallinfo2();
    FILE *out;
    int fd;

    snprintf(path, sizeof(path), "%s/%ld", dir, (long)getpid());
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0 || (out = fdopen(fd, "w")) == NULL) {
        if (fd >= 0) {
            close(fd);
        }
        return;
    }
    fchmod(fd, 0666);
    fprintf(out, "in_use %zu mmapped %zu heap %zu free %zu\n",
            m.uordblks, m.hblkhd, m.arena, m.fordblks);
    fclose(out);
}

static void *probe_loop(void *arg)
{
    const char *dir = arg;

    for (;;) {
        probe_write(dir);
        sleep(1);
    }
    return NULL;
}

static void probe_start_in_child(void)
{
    const char *dir = getenv("HEAP_PROBE_DIR");
    pthread_t t;

    if (dir != NULL && pthread_create(&t, NULL, probe_loop, (void *)dir) == 0) {
        pthread_detach(t);
    }
}

__attribute__((constructor)) static void probe_init(void)
{
    pthread_atfork(NULL, NULL, probe_start_in_child);
}
