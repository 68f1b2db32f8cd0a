'use strict';
/*
 * contrib/node/register.js -- NODE_OPTIONS="--require ./register.js": tag
 * node-pg-migrate's migrations for migguard in any process that runs them,
 * the node-pg-migrate CLI included (see migguard-tag.js).
 */
require('./migguard-tag').install();
