from dinamis_common.runtime import serve

from gateway_service.bootstrap import create_app
from gateway_service.settings import Settings

settings = Settings()
serve(create_app(settings), settings)
