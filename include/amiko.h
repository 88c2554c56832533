/**
 * @file amiko.h
 * @brief amiko: an SSH-2 client and server library. Include this header.
 */
#ifndef AMIKO_H
#define AMIKO_H

#include "amiko/client.h"
#include "amiko/authorized_keys.h"
#include "amiko/common.h"
#include "amiko/error.h"
#include "amiko/key.h"
#include "amiko/known_hosts.h"
#include "amiko/log.h"
#include "amiko/session.h"
#include "amiko/server.h"
#include "amiko/sftp.h"

#endif
