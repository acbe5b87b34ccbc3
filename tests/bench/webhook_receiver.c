/*
 * webhook_receiver.c: the "fast local receiver" of tests/bench/webhooks.py. One thread, epoll,
 * HTTP/1.1 keep-alive: every POST is read to the end of its body (Content-Length) and answered
 * 200 with an empty body; GET /count answers the number of POSTs received so far. Small enough
 * that the benchmark measures the worker, not the receiver (the asyncio one it replaces took
 * about as much CPU per delivery as the worker itself).
 *
 *     webhook_receiver PORTFILE     listens on 127.0.0.1, an ephemeral port written to PORTFILE
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 65536

struct conn {
    int fd;
    size_t len;
    char buf[BUF];
};

static unsigned long long received;

/* Content-Length of the head in c->buf[0..head), 0 when absent. */
static size_t content_length(const char *head, size_t n)
{
    for (const char *p = head; p != NULL && p < head + n;) {
        const char *eol = memchr(p, '\n', (size_t)(head + n - p));
        if (eol == NULL)
            break;
        if ((size_t)(eol - p) > 15 && strncasecmp(p, "content-length:", 15) == 0)
            return strtoul(p + 15, NULL, 10);
        p = eol + 1;
    }
    return 0;
}

static int reply(int fd, const char *body)
{
    char out[128];
    int n = snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
    return write(fd, out, (size_t)n) == n ? 0 : -1;
}

/* Answers every complete request in the buffer; -1 to close the connection. */
static int serve(struct conn *c)
{
    for (;;) {
        char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (end == NULL)
            return c->len == BUF ? -1 : 0;
        size_t head = (size_t)(end - c->buf) + 4, body = content_length(c->buf, head);
        if (body > BUF - head)
            return -1;
        if (c->len < head + body)
            return 0;
        int rc;
        if (strncmp(c->buf, "GET /count", 10) == 0) {
            char n[32];
            snprintf(n, sizeof(n), "%llu", received);
            rc = reply(c->fd, n);
        } else {
            received++;
            rc = reply(c->fd, "");
        }
        if (rc != 0)
            return -1;
        memmove(c->buf, c->buf + head + body, c->len - head - body);
        c->len -= head + body;
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: webhook_receiver PORTFILE\n");
        return 2;
    }
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 512) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &alen) != 0) {
        perror("webhook_receiver: listen");
        return 1;
    }
    FILE *pf = fopen(argv[1], "w");
    if (pf == NULL || fprintf(pf, "%d\n", ntohs(a.sin_port)) < 0 || fclose(pf) != 0) {
        perror("webhook_receiver: port file");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    struct epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(ep, evs, 64, -1);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    struct conn *nc = calloc(1, sizeof(*nc));
                    nc->fd = fd;
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            ssize_t r = read(c->fd, c->buf + c->len, BUF - c->len);
            if (r > 0)
                c->len += (size_t)r;
            if ((r <= 0 && !(r < 0 && errno == EAGAIN)) || serve(c) != 0) {
                close(c->fd);
                free(c);
            }
        }
    }
}
