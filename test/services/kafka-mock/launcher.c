/*
 * librdkafka's mock Kafka cluster as a standalone process, for Weir's integration tests.
 *
 *   launcher [brokers]
 *
 * Prints two lines on stdout once it is ready, then runs until it is killed:
 *   KAFKA_BROKERS=127.0.0.1:p1,127.0.0.1:p2,...   the bootstrap list
 *   KAFKA_MOCK_CONTROL=127.0.0.1:port             a line protocol for what the Kafka protocol
 *                                                 of the mock cannot do (no CreateTopics):
 *     create <topic> <partitions>\n  ->  ok\n | error <reason>\n
 *     delete <topic>\n               ->  ok\n | error <reason>\n
 *
 * Settings that matter for kafkajs: the group rebalance delay is 0 (the default 3 s would slow every
 * consumer-group test), and LeaveGroup is capped at v2 (kafkajs stalls about 30 s re-joining a group
 * otherwise). Topics a client asks for in Metadata with auto-creation allowed get 4 partitions.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rdkafka.h"
#include "rdkafka_mock.h"

#define API_LEAVE_GROUP 13

static void serve(int fd, rd_kafka_mock_cluster_t *cluster) {
  FILE *in = fdopen(fd, "r");
  FILE *out = fdopen(dup(fd), "w");
  char line[1024], topic[512];
  int partitions;
  while (in && out && fgets(line, sizeof line, in)) {
    rd_kafka_resp_err_t err;
    if (sscanf(line, "create %511s %d", topic, &partitions) == 2 && partitions > 0) {
      err = rd_kafka_mock_topic_create(cluster, topic, partitions, 1);
    } else if (sscanf(line, "delete %511s", topic) == 1) {
      err = rd_kafka_mock_topic_delete(cluster, topic);
    } else {
      fprintf(out, "error unknown command (create <topic> <partitions> | delete <topic>)\n");
      fflush(out);
      continue;
    }
    if (err) fprintf(out, "error %s\n", rd_kafka_err2name(err));
    else fprintf(out, "ok\n");
    fflush(out);
  }
  if (in) fclose(in);
  if (out) fclose(out);
}

int main(int argc, char **argv) {
  int broker_count = argc > 1 ? atoi(argv[1]) : 3;
  char errstr[512];
  signal(SIGPIPE, SIG_IGN);
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    fprintf(stderr, "rd_kafka_new: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t *cluster = rd_kafka_mock_cluster_new(rk, broker_count);
  if (!cluster) {
    fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
    return 1;
  }
  rd_kafka_mock_group_initial_rebalance_delay_ms(cluster, 0);
  rd_kafka_mock_set_apiversion(cluster, API_LEAVE_GROUP, 0, 2);

  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listener, 16) != 0 ||
      getsockname(listener, (struct sockaddr *)&addr, &len) != 0) {
    perror("control socket");
    return 1;
  }
  printf("KAFKA_BROKERS=%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
  printf("KAFKA_MOCK_CONTROL=127.0.0.1:%d\n", ntohs(addr.sin_port));
  fflush(stdout);

  /* One client at a time: control requests are rare (a test creating its topics). */
  for (;;) {
    int fd = accept(listener, NULL, NULL);
    if (fd >= 0) serve(fd, cluster);
  }
}
