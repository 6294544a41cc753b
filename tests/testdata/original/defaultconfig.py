# Rebuilt for p2ptracker's tests from the table in original-behaviour.md (f); not the original file.
# Keys, values and the lines of HOST, PORT, DEBUG and UPLOAD_PATH are as that table gives them.
"""
Default settings of the p2ptracker Flask app, loaded before the file given
on the command line and the one named by $P2PTRACKERCONFIG.
"""

HOST = "localhost"
PORT = "5000"
DEBUG = True
REDISHOST = "localhost"
REDISPORT = 6379
SMDB_URL = 'http://192.168.135.20:5000'
MAX_REPR_RACK = 2
ACTIVE_INTERVAL = 15
PASSIVE_INTERVAL = 5 * 60 # 5 minutes
UPLOAD_PATH = "/tmp/p2ptracker"
MAXPEERS = 30
PROXYPASS = True
