#!/usr/bin/env -S node --import tsx
/* global __dirname */
// Runs the commands from src/ through tsx, without a build (CommonJS, as bin/run.js).
'use strict'

const path = process.getBuiltinModule('node:path')

import('@oclif/core').then(({execute}) => execute({development: true, dir: path.join(__dirname, '..')}))
