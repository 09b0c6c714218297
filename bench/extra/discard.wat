;; For the discard measurement (discard.c): just a memory of 1100 pages
;; (1 page of head room + the 1024 discarded at most, rounded up).
(module (memory (export "memory") 1100))
