"""`sam local invoke` and `sam local start-api` on this machine, offline.

``runtime_image.sh`` starts the container engine and builds the Lambda runtime
image the template's Runtime needs; ``local_function`` runs the function that
``sam build`` produced with either backend (the embedded model from
``make model``, or a stand-in SageMaker endpoint on the docker bridge);
``python -m training_jobs.sam_local`` is its command line (``make local-invoke``,
``make local-api``).
"""
