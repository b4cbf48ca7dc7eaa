/* Binds the cluster engine (daemon/cluster) to what the network layer asks of replication: the
 * writer's writer_replicator and the server's server_cluster_ops, each a thin call into the
 * engine. Kept here, in net, because those interfaces are the network layer's.
 */
#ifndef FUNDFLOW_CLUSTER_BIND_H
#define FUNDFLOW_CLUSTER_BIND_H

#include "cluster.h"
#include "server_cluster.h"
#include "writer.h"

typedef struct cluster_binding {
    writer_replicator replicator;
    server_cluster_ops ops;
} cluster_binding;

/* Fills binding to call into cluster, which must outlive every use of it. */
void cluster_bind(ff_cluster *cluster, cluster_binding *binding);

#endif
