/*
 * nfq-clamp: the MSS clamp as people write it on libnetfilter_queue, the benchmark's peer for
 * tcpmssd (benches/throughput.sh, tests/throughput.rs). Not part of tcpmssd.
 *
 *   nfq-clamp classic|batched|accept QUEUE MTU QUEUE_MAXLEN RCVBUF
 *
 * classic: the loop of libnetfilter_queue's documentation: recv() one datagram, hand it to
 *          nfq_handle_packet(), whose callback sends one nfq_set_verdict() per packet, with the
 *          packet when it was clamped.
 * batched: the libmnl API of libnetfilter_queue (its examples/nf-queue.c): recvmmsg() of up to
 *          32 datagrams, each read with nfq_nlmsg_parse(), every verdict of the batch built with
 *          nfq_nlmsg_verdict_put()/nfq_nlmsg_verdict_put_pkt() into one buffer and sent with
 *          one sendto().
 * accept:  no clamp: the batched loop answering each batch with one NFQNL_MSG_VERDICT_BATCH,
 *          no packet sent back. The least work any consumer can do per packet: what it
 *          delivers is the ceiling of every NFQUEUE consumer on the machine.
 *
 * Both bind the queue with the options tcpmssd uses (copy whole packets, fail-open, the given
 * queue length, NETLINK_NO_ENOBUFS, the given receive buffer forced past rmem_max), clamp every
 * MSS option of a SYN (IPv4, and IPv6 without extension headers) to MTU - 40 / MTU - 60 with
 * an incremental checksum update (RFC 1624 eqn. 3), and accept every packet. SIGTERM ends them.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static uint16_t mss4, mss6;

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for a 16-bit word at an even offset of the
 * segment. An MSS value at an odd offset is handled by swapping both words' bytes. */
static uint16_t adjust(uint16_t check, uint16_t old, uint16_t new)
{
	uint32_t sum = (uint16_t)~check + (uint16_t)~old + new;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Lowers every MSS option above `limit` in the TCP segment; returns 1 when it changed it. */
static int clamp_tcp(uint8_t *tcp, size_t len, uint16_t limit)
{
	if (len < 20)
		return 0;
	uint8_t flags = tcp[13];
	if (!(flags & 0x02) || (flags & 0x04)) /* SYN set, RST clear */
		return 0;
	size_t off = (size_t)(tcp[12] >> 4) * 4;
	if (off < 20 || off > len)
		return 0;
	int changed = 0;
	size_t i = 20;
	while (i < off) {
		uint8_t kind = tcp[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= off || tcp[i + 1] < 2 || i + tcp[i + 1] > off)
			break;
		if (kind == 2 && tcp[i + 1] == 4) {
			uint16_t mss = get16(tcp + i + 2);
			if (mss > limit) {
				uint16_t check = get16(tcp + 16);
				if ((i + 2) % 2 == 0) {
					check = adjust(check, mss, limit);
				} else {
					/* Odd offset: the value straddles two checksum words. */
					uint16_t o = (uint16_t)(mss << 8 | mss >> 8);
					uint16_t n = (uint16_t)(limit << 8 | limit >> 8);
					check = adjust(check, o, n);
				}
				put16(tcp + i + 2, limit);
				put16(tcp + 16, check);
				changed = 1;
			}
		}
		i += tcp[i + 1];
	}
	return changed;
}

/* Clamps an IPv4 or IPv6 packet in place; returns 1 when it changed it. */
static int clamp(uint8_t *pkt, size_t len)
{
	if (len >= 20 && pkt[0] >> 4 == 4) {
		size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
		size_t total = get16(pkt + 2);
		if (ihl < 20 || total > len || total < ihl || pkt[9] != 6)
			return 0;
		if (get16(pkt + 6) & 0x1fff) /* not the first fragment */
			return 0;
		return clamp_tcp(pkt + ihl, total - ihl, mss4);
	}
	if (len >= 40 && pkt[0] >> 4 == 6) {
		size_t total = 40 + (size_t)get16(pkt + 4);
		if (total > len || pkt[6] != 6)
			return 0;
		return clamp_tcp(pkt + 40, total - 40, mss6);
	}
	return 0;
}

static _Noreturn void die(const char *what)
{
	perror(what);
	exit(EXIT_FAILURE);
}

static void force_rcvbuf(int fd, int rcvbuf)
{
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
		die("SO_RCVBUFFORCE");
	if (setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one) < 0)
		die("NETLINK_NO_ENOBUFS");
}

/* ---- classic --------------------------------------------------------------------------- */

static int classic_cb(struct nfq_q_handle *qh, struct nfgenmsg *nfmsg, struct nfq_data *nfa,
		      void *data)
{
	(void)nfmsg;
	(void)data;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	if (!ph)
		return 0;
	uint32_t id = ntohl(ph->packet_id);
	unsigned char *pkt;
	int len = nfq_get_payload(nfa, &pkt);
	if (len > 0 && clamp(pkt, (size_t)len))
		return nfq_set_verdict(qh, id, NF_ACCEPT, (uint32_t)len, pkt);
	return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
}

static _Noreturn void run_classic(uint16_t queue, uint32_t maxlen, int rcvbuf)
{
	static char buf[0xffff + 4096];
	struct nfq_handle *h = nfq_open();
	if (!h)
		die("nfq_open");
	struct nfq_q_handle *qh = nfq_create_queue(h, queue, classic_cb, NULL);
	if (!qh)
		die("nfq_create_queue");
	if (nfq_set_mode(qh, NFQNL_COPY_PACKET, 0xffff) < 0)
		die("nfq_set_mode");
	if (nfq_set_queue_maxlen(qh, maxlen) < 0)
		die("nfq_set_queue_maxlen");
	if (nfq_set_queue_flags(qh, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN) < 0)
		die("nfq_set_queue_flags");
	int fd = nfq_fd(h);
	force_rcvbuf(fd, rcvbuf);
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0) {
			if (errno == ENOBUFS || errno == EINTR)
				continue;
			die("recv");
		}
		nfq_handle_packet(h, buf, (int)n);
	}
}

/* ---- batched --------------------------------------------------------------------------- */

#define BATCH 32
#define SLOT (0xffff + 4096)

struct batch {
	char *out;
	size_t used;
	uint16_t queue;
	int accept_only;
	uint32_t max_id;
};

static int batched_cb(const struct nlmsghdr *nlh, void *data)
{
	struct batch *b = data;
	struct nlattr *attr[NFQA_MAX + 1] = {0};
	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;
	struct nfqnl_msg_packet_hdr *ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	uint32_t id = ntohl(ph->packet_id);
	if (b->accept_only) {
		b->max_id = id;
		return MNL_CB_OK;
	}
	struct nlmsghdr *v = nfq_nlmsg_put(b->out + b->used, NFQNL_MSG_VERDICT, b->queue);
	nfq_nlmsg_verdict_put(v, (int)id, NF_ACCEPT);
	if (attr[NFQA_PAYLOAD] && !attr[NFQA_CAP_LEN]) {
		uint8_t *pkt = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		uint16_t len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
		if (clamp(pkt, len))
			nfq_nlmsg_verdict_put_pkt(v, pkt, len);
	}
	b->used += v->nlmsg_len;
	return MNL_CB_OK;
}

static _Noreturn void run_batched(uint16_t queue, uint32_t maxlen, int rcvbuf, int accept_only)
{
	char *cfg = malloc(MNL_SOCKET_BUFFER_SIZE);
	char *slots = malloc((size_t)BATCH * SLOT);
	/* Room for BATCH verdicts, each with a whole packet. */
	char *out = malloc((size_t)BATCH * SLOT);
	if (!cfg || !slots || !out)
		die("malloc");
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		die("mnl_socket_open");
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		die("mnl_socket_bind");
	unsigned int portid = mnl_socket_get_portid(nl);
	int fd = mnl_socket_get_fd(nl);
	force_rcvbuf(fd, rcvbuf);

	struct nlmsghdr *nlh = nfq_nlmsg_put(cfg, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		die("bind");
	nlh = nfq_nlmsg_put(cfg, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN));
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		die("params");

	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	memset(msgs, 0, sizeof msgs);
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = slots + (size_t)i * SLOT;
		iov[i].iov_len = SLOT;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	struct batch b = {.out = out, .queue = queue, .accept_only = accept_only};
	for (;;) {
		/* Blocks for the first datagram, then takes what is there (recvmmsg(2)). */
		int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == ENOBUFS || errno == EINTR)
				continue;
			die("recvmmsg");
		}
		b.used = 0;
		b.max_id = 0;
		for (int i = 0; i < n; i++)
			mnl_cb_run(iov[i].iov_base, msgs[i].msg_len, 0, portid, batched_cb, &b);
		if (accept_only && b.max_id) {
			struct nlmsghdr *v = nfq_nlmsg_put(out, NFQNL_MSG_VERDICT_BATCH, queue);
			nfq_nlmsg_verdict_put(v, (int)b.max_id, NF_ACCEPT);
			b.used = v->nlmsg_len;
		}
		if (b.used > 0 && mnl_socket_sendto(nl, out, b.used) < 0 && errno != ENOENT)
			die("sendto verdicts");
	}
}

int main(int argc, char **argv)
{
	if (argc != 6 ||
	    (strcmp(argv[1], "classic") && strcmp(argv[1], "batched") && strcmp(argv[1], "accept"))) {
		fprintf(stderr, "usage: %s classic|batched|accept QUEUE MTU QUEUE_MAXLEN RCVBUF\n",
			argv[0]);
		return 64;
	}
	uint16_t queue = (uint16_t)atoi(argv[2]);
	int mtu = atoi(argv[3]);
	mss4 = (uint16_t)(mtu - 40);
	mss6 = (uint16_t)(mtu - 60);
	uint32_t maxlen = (uint32_t)strtoul(argv[4], NULL, 10);
	int rcvbuf = atoi(argv[5]);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(argv[1], "classic"))
		run_classic(queue, maxlen, rcvbuf);
	run_batched(queue, maxlen, rcvbuf, !strcmp(argv[1], "accept"));
}
