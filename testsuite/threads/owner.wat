;; Defines the shared memory the workers import (16 pages, fixed size).
(module
  (memory (export "memory") 16 16 shared))
