// Interface text of the appeals' public filter and services' rating (everyone) and of the
// appeals analytics for staff (summary, hot spots, forecast), [ru, kk, en]; merged into the
// interface dictionary by i18n.js.

export const APPEALS = {
  // residents: the hexagons filtered by category and by the time slider
  'ap.filter.category': ['Категория обращений', 'Өтініштер санаты', 'Category of appeals'],
  'ap.filter.all': ['Все категории', 'Барлық санаттар', 'All categories'],
  'ap.filter.idle': [
    'Выберите категорию или дату на шкале времени, чтобы отфильтровать шестиугольники.',
    'Алтыбұрыштарды сүзу үшін санатты немесе уақыт шкаласында күнді таңдаңыз.',
    'Choose a category or a date on the time slider to filter the hexagons.',
  ],
  'ap.filter.loading': ['Загрузка…', 'Жүктелуде…', 'Loading…'],
  'ap.filter.until': [
    'Обращения, поданные до конца месяца ({month}).',
    'Ай соңына дейін берілген өтініштер ({month}).',
    'Appeals filed up to the end of {month}.',
  ],
  'ap.filter.shown': [
    'Показано шестиугольников: {n}. Не показаны ячейки, где меньше {k} обращений ({withheld}); к числам добавлен шум ±2.',
    'Көрсетілген алтыбұрыштар: {n}. {k}-тен аз өтініші бар ұяшықтар көрсетілмейді ({withheld}); сандарға ±2 шу қосылған.',
    'Hexagons shown: {n}. Cells with fewer than {k} appeals are not shown ({withheld}); counts carry a noise of ±2.',
  ],
  'ap.filter.hidden': [
    'Включите слой «Обращения жителей», чтобы увидеть шестиугольники.',
    '«Тұрғындардың өтініштері» қабатын қосыңыз.',
    "Turn on the layer “Residents' appeals” to see the hexagons.",
  ],

  // residents: the services' rating
  'ap.rating.title': ['Рейтинг городских служб', 'Қалалық қызметтердің рейтингі', "City services' rating"],
  'ap.rating.window': ['Обращения с {from} по {to}', '{from} – {to} аралығындағы өтініштер', 'Appeals from {from} to {to}'],
  'ap.rating.rank': ['Место', 'Орын', 'Rank'],
  'ap.rating.service': ['Служба', 'Қызмет', 'Service'],
  'ap.rating.score': ['Балл', 'Балл', 'Score'],
  'ap.rating.mean': ['Оценка жителей', 'Тұрғындар бағасы', "Residents' rating"],
  'ap.rating.onTime': ['В срок', 'Мерзімінде', 'On time'],
  'ap.rating.count': ['обращений: {n}', 'өтініш: {n}', 'appeals: {n}'],
  'ap.rating.withheld': [
    'меньше {k} обращений — не показано',
    '{k}-тен аз өтініш — көрсетілмейді',
    'fewer than {k} appeals — not shown',
  ],
  'ap.rating.k': [
    'Средние показаны только по {k} и более обращениям или оценкам.',
    'Орташа мәндер тек {k} және одан көп өтініш не баға бойынша көрсетіледі.',
    'Averages are shown only over {k} or more appeals or ratings.',
  ],
  'ap.rating.formula': ['Формула рейтинга', 'Рейтинг формуласы', 'Rating formula'],
  'ap.rating.formulaText': [
    'балл = 100 × (0,5 × доля ответов в срок + 0,3 × (оценка − 1) / 4 + 0,2 × доля решённых); оценка сглажена к средней по городу (+20 оценок); службы с менее чем {min} обращениями не ранжируются.',
    'балл = 100 × (0,5 × мерзімінде жауап үлесі + 0,3 × (баға − 1) / 4 + 0,2 × шешілген үлесі); баға қала орташасына тегістелген (+20 баға); {min}-нан аз өтініші бар қызметтер рейтингке кірмейді.',
    'score = 100 × (0.5 × share answered on time + 0.3 × (rating − 1) / 4 + 0.2 × share resolved); the rating is shrunk towards the city mean (+20 ratings); services with fewer than {min} appeals are not ranked.',
  ],
  'ap.synthetic': ['Демо-данные (сгенерированы)', 'Демо-деректер (жасалған)', 'Demo data (generated)'],
  'ap.error': ['Не удалось загрузить: {detail}', 'Жүктеу мүмкін болмады: {detail}', 'Could not load: {detail}'],

  // staff: the analysis panel's group
  'an.group.appeals': ['Обращения: аналитика', 'Өтініштер: талдау', 'Appeals analytics'],
  'ap.period': ['Период', 'Кезең', 'Period'],
  'ap.export': ['Скачать', 'Жүктеп алу', 'Download'],
  'ap.export.csv': ['CSV', 'CSV', 'CSV'],
  'ap.export.geojson': ['GeoJSON', 'GeoJSON', 'GeoJSON'],
  'ap.from': ['С', 'Бастап', 'From'],
  'ap.to': ['По', 'Дейін', 'To'],
  'ap.show': ['Показать', 'Көрсету', 'Show'],
  'ap.total': ['Всего обращений: {n}', 'Барлық өтініш: {n}', 'Appeals in all: {n}'],
  'ap.byCategory': ['По категориям', 'Санаттар бойынша', 'By category'],
  'ap.byDistrict': ['По районам', 'Аудандар бойынша', 'By district'],
  'ap.byService': ['Службы: сроки и оценки', 'Қызметтер: мерзімдер мен бағалар', 'Services: handling and ratings'],
  'ap.category': ['Категория', 'Санат', 'Category'],
  'ap.district': ['Район', 'Аудан', 'District'],
  'ap.count': ['Обращений', 'Өтініштер', 'Appeals'],
  'ap.median': ['Медиана, дн.', 'Медиана, күн', 'Median, days'],
  'ap.p90': ['90-й перц., дн.', '90-пер., күн', '90th pct, days'],
  'ap.overdue': ['Просрочено', 'Мерзімі өткен', 'Overdue'],
  'ap.all': ['Все', 'Барлығы', 'All'],

  // staff: hot spots
  'ap.hot.title': ['Горячие точки', 'Ыстық нүктелер', 'Hot spots'],
  'ap.hot.about': [
    'Getis-Ord Gi* по шестиугольникам H3 (999 перестановок, поправка FDR) за выбранный период; или возникающие горячие точки за 12 месяцев.',
    'H3 алтыбұрыштары бойынша Getis-Ord Gi* (999 ауыстыру, FDR түзетуі) таңдалған кезеңге; немесе 12 айдағы пайда болатын ыстық нүктелер.',
    'Getis-Ord Gi* on H3 hexagons (999 permutations, FDR-corrected) over the chosen period; or emerging hot spots over 12 months.',
  ],
  'ap.hot.mode': ['Вид', 'Түрі', 'View'],
  'ap.hot.gi': ['Горячие и холодные (Gi*)', 'Ыстық және суық (Gi*)', 'Hot and cold (Gi*)'],
  'ap.hot.emerging': ['Возникающие (12 мес.)', 'Пайда болатын (12 ай)', 'Emerging (12 months)'],
  'ap.hot.res': ['Размер ячейки', 'Ұяшық өлшемі', 'Cell size'],
  'ap.hot.res8': ['крупные (H3 8)', 'ірі (H3 8)', 'large (H3 8)'],
  'ap.hot.res9': ['мелкие (H3 9)', 'ұсақ (H3 9)', 'small (H3 9)'],
  'ap.hot.show': ['Показать на карте', 'Картада көрсету', 'Show on the map'],
  'ap.hot.clear': ['Убрать с карты', 'Картадан алып тастау', 'Remove from the map'],
  'ap.hot.busy': ['Считаем горячие точки…', 'Ыстық нүктелер есептелуде…', 'Computing hot spots…'],
  'ap.hot.none': ['Значимых ячеек нет', 'Маңызды ұяшық жоқ', 'No significant cells'],
  'ap.hot.cell': [
    'Ячейка {cell}: {count} обращ., z = {z}, p = {p}',
    '{cell} ұяшығы: {count} өтініш, z = {z}, p = {p}',
    'Cell {cell}: {count} appeals, z = {z}, p = {p}',
  ],
  'ap.hot.class.hot99': ['Горячая, p ≤ 0,01', 'Ыстық, p ≤ 0,01', 'Hot, p ≤ 0.01'],
  'ap.hot.class.hot95': ['Горячая, значима по FDR', 'Ыстық, FDR бойынша маңызды', 'Hot, FDR-significant'],
  'ap.hot.class.cold95': ['Холодная, значима по FDR', 'Суық, FDR бойынша маңызды', 'Cold, FDR-significant'],
  'ap.hot.class.cold99': ['Холодная, p ≤ 0,01', 'Суық, p ≤ 0,01', 'Cold, p ≤ 0.01'],
  'ap.hot.class.new': ['Новая', 'Жаңа', 'New'],
  'ap.hot.class.intensifying': ['Усиливающаяся', 'Күшейіп келе жатқан', 'Intensifying'],
  'ap.hot.class.persistent': ['Устойчивая', 'Тұрақты', 'Persistent'],
  'ap.hot.class.diminishing': ['Ослабевающая', 'Әлсіреп келе жатқан', 'Diminishing'],
  'ap.hot.class.sporadic': ['Эпизодическая', 'Кездейсоқ', 'Sporadic'],
  'ap.hot.fdr': ['Порог FDR: p ≤ {p}', 'FDR шегі: p ≤ {p}', 'FDR threshold: p ≤ {p}'],

  // staff: forecast
  'ap.fc.title': ['Прогноз на 3 месяца', '3 айлық болжам', 'Forecast for 3 months'],
  'ap.fc.run': ['Построить прогноз', 'Болжам жасау', 'Make the forecast'],
  'ap.fc.busy': ['Подбираем модель по ретротесту…', 'Модель ретротест бойынша таңдалуда…', 'Choosing the model by back-test…'],
  'ap.fc.model': [
    'Модель: {model} (выбрана по ретротесту на последних {months} мес.)',
    'Модель: {model} (соңғы {months} айдағы ретротест бойынша таңдалды)',
    'Model: {model} (chosen by back-test on the last {months} months)',
  ],
  'ap.fc.error': [
    'Ошибка ретротеста: MASE {mase}, MAE {mae}; сезонный наивный прогноз: MASE {naive}, MAE {naiveMae}',
    'Ретротест қатесі: MASE {mase}, MAE {mae}; маусымдық аңғал болжам: MASE {naive}, MAE {naiveMae}',
    'Back-test error: MASE {mase}, MAE {mae}; seasonal naive: MASE {naive}, MAE {naiveMae}',
  ],
  'ap.fc.month': ['Месяц', 'Ай', 'Month'],
  'ap.fc.mean': ['Прогноз', 'Болжам', 'Forecast'],
  'ap.fc.interval': ['Интервал {level} %', '{level} % аралығы', '{level} % interval'],
  'ap.fc.history': ['Факт', 'Нақты', 'Actual'],
  'ap.fc.chart': [
    'Обращения по месяцам: факт и прогноз с интервалом',
    'Айлар бойынша өтініштер: нақты және аралығы бар болжам',
    'Appeals per month: actual and forecast with its interval',
  ],
};
