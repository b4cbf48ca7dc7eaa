/* A writer job as the server builds one from a decoded SubmitCommands request, shared by the
 * tests that drive the writer (test_writer.c, test_replica.c). */
#ifndef FUNDFLOW_TEST_WRITER_JOB_H
#define FUNDFLOW_TEST_WRITER_JOB_H

#include <stdio.h>
#include <stdlib.h>

#include "writer.h"
#include "test_support.h"

/* One allocation of 1 + index pence from X24 to QUE in core services, under key writer-INDEX,
 * recorded at TEST_RECORDED_AT_US; writer_job_free frees it. */
static inline writer_job *test_writer_job_make(int index) {
    char key[32];
    snprintf(key, sizeof key, "writer-%d", index);
    Fundflow__V1__SubmitCommandsRequest *request = malloc(sizeof *request);
    fundflow__v1__submit_commands_request__init(request);
    request->commands = malloc(sizeof *request->commands);
    request->commands[0] = test_allocation(key, "X24", "QUE", FUNDFLOW__V1__STREAM__CORE_SERVICES,
                                           TEST_YEAR, 1 + index);
    request->n_commands = 1;
    writer_job *job = calloc(1, sizeof *job);
    job->request = request;
    job->results = calloc(1, sizeof *job->results);
    job->batch = (ledger_batch){.commands = request->commands, .command_count = 1,
                                .actor = "writer-test", .recorded_at_us = TEST_RECORDED_AT_US};
    return job;
}

#endif
