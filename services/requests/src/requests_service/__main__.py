from dinamis_common.runtime import serve

from requests_service.bootstrap import create_app
from requests_service.settings import Settings

settings = Settings()
serve(create_app(settings), settings)
