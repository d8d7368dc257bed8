"""Finding the passages for a question: the batching retriever off the event loop with its
query-vector cache, query translation and cross-lingual search (search the question and its
translation, merge the lists), and the relevance floor each knowledge-base version calibrated."""
