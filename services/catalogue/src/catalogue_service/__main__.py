from dinamis_common.runtime import serve

from catalogue_service.bootstrap import create_app
from catalogue_service.settings import Settings

settings = Settings()
serve(create_app(settings), settings)
