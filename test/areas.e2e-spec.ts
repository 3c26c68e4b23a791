import { readFileSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { anArea, anAreaTree, uniqueAreaCode } from './support/factories.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const DEMO_CSV = readFileSync(new URL('../data/demo-areas.csv', import.meta.url));
const GSO_HEADER = 'Mã TP,Tỉnh / Thành Phố,Mã QH,Quận Huyện,Mã PX,Phường Xã,Cấp';

describe('areas', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const get = (path: string) => t.http().get(`/api/v1/areas${path}`).set('Authorization', t.auth);
  const post = (body: object) => t.http().post('/api/v1/areas').set('Authorization', t.auth).send(body);
  const patch = (code: string, body: object) => t.http().patch(`/api/v1/areas/${code}`).set('Authorization', t.auth).send(body);
  const del = (code: string) => t.http().delete(`/api/v1/areas/${code}`).set('Authorization', t.auth);
  const upload = (csv: Buffer | string, filename = 'areas.csv') =>
    t.http().post('/api/v1/areas/import').set('Authorization', t.auth).attach('file', Buffer.from(csv), filename);

  describe('creating', () => {
    it('creates a province, a district and a commune, and reads the commune back with its ancestors', async () => {
      const [p, d, c] = [uniqueAreaCode('province'), uniqueAreaCode('district'), uniqueAreaCode('commune')];

      const province = await post({ code: p, name: '  Tỉnh Thử  ', level: 'province' }).expect(201);
      await post({ code: d, name: 'Huyện Thử', level: 'district', parentCode: p }).expect(201);
      await post({ code: c, name: 'Xã Thử', level: 'commune', parentCode: d }).expect(201);
      const commune = await get(`/${c}`).expect(200);
      const parent = await get(`/${p}`).expect(200);

      expect(province.body).toEqual({
        code: p,
        name: 'Tỉnh Thử',
        level: 'province',
        parentCode: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(commune.body).toMatchObject({
        code: c,
        name: 'Xã Thử',
        level: 'commune',
        parentCode: d,
        childCount: 0,
        ancestors: [
          { code: p, name: 'Tỉnh Thử', level: 'province' },
          { code: d, name: 'Huyện Thử', level: 'district' },
        ],
      });
      expect(parent.body).toMatchObject({ ancestors: [], childCount: 1 });
    });

    it('only accepts a parent exactly one level up', async () => {
      const tree = await anAreaTree(t);

      const districtUnderDistrict = await post({ code: uniqueAreaCode(), name: 'X', level: 'district', parentCode: tree.district }).expect(400);
      const provinceWithParent = await post({ code: uniqueAreaCode(), name: 'X', level: 'province', parentCode: tree.province }).expect(400);
      const orphanCommune = await post({ code: uniqueAreaCode(), name: 'X', level: 'commune' }).expect(400);
      const villageUnderProvince = await post({ code: uniqueAreaCode(), name: 'X', level: 'village', parentCode: tree.province }).expect(400);

      expect(districtUnderDistrict.body).toEqual({
        error: 'hierarchy',
        message: `the parent of a district must be a province, but ${tree.district} is a district`,
      });
      expect(provinceWithParent.body).toEqual({ error: 'hierarchy', message: 'a province has no parent area; leave out parentCode' });
      expect(orphanCommune.body).toEqual({ error: 'hierarchy', message: 'a commune needs parentCode, the code of its district' });
      expect(villageUnderProvince.body.message).toBe(`the parent of a village must be a commune, but ${tree.province} is a province`);
    });

    it('answers 404 for a parent that does not exist', async () => {
      const res = await post({ code: uniqueAreaCode(), name: 'X', level: 'district', parentCode: 'nowhere' }).expect(404);

      expect(res.body.message).toBe('area nowhere not found');
    });

    it('refuses a taken code, also when two requests race for it', async () => {
      const taken = await anArea(t);
      const racing = uniqueAreaCode();

      const again = await post({ code: taken.code, name: 'Other', level: 'province' }).expect(409);
      const both = await Promise.all([1, 2].map((i) => post({ code: racing, name: `Racer ${i}`, level: 'province' })));

      expect(again.body).toEqual({ error: 'conflict', message: `area code ${taken.code} is taken` });
      expect(both.map((r) => r.status).sort()).toEqual([201, 409]);
    });

    it.each([
      ['a code with spaces', { code: 'bad code', name: 'X', level: 'province' }, 'code must be 1-32 letters, digits, - or _'],
      ['a code over 32 characters', { code: 'a'.repeat(33), name: 'X', level: 'province' }, 'code must be 1-32 letters, digits, - or _'],
      ['an unknown level', { code: uniqueAreaCode(), name: 'X', level: 'city' }, 'level must be one of province, district, commune, village'],
      ['a blank name', { code: uniqueAreaCode(), name: '   ', level: 'province' }, 'name must be longer than or equal to 1 characters'],
      ['a numeric code', { code: 6, name: 'X', level: 'province' }, 'code must be a string'],
      ['an unknown field', { code: uniqueAreaCode(), name: 'X', level: 'province', colour: 'red' }, 'property colour should not exist'],
    ])('rejects %s with 400', async (_, body, message) => {
      const res = await post(body).expect(400);

      expect(res.body.error).toBe('validation');
      expect(res.body.message).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
    });

    it('rejects malformed JSON with 400', async () => {
      await t.http().post('/api/v1/areas').set('Authorization', t.auth).set('Content-Type', 'application/json').send('{"code":').expect(400);
    });

    it('requires a token', async () => {
      await t.http().get('/api/v1/areas').expect(401);
    });
  });

  describe('listing', () => {
    it('filters by parent, level and text, escaping LIKE wildcards, ordered by code', async () => {
      const province = await anArea(t, { code: 'L0', name: 'Tỉnh Lọc' });
      await anArea(t, { code: 'L0-b', name: 'Huyện A_B', parentCode: 'L0' });
      await anArea(t, { code: 'L0-a', name: 'Huyện AxB', parentCode: 'L0' });
      await anArea(t, { code: 'L0-c', name: 'Huyện Khác', parentCode: 'L0' });

      const children = await get(`?parentCode=${province.code}`).expect(200);
      const underscore = await get(`?parentCode=${province.code}&q=a_b`).expect(200);
      const caseless = await get(`?parentCode=${province.code}&q=XB`).expect(200);
      const byCode = await get('?q=l0-C').expect(200);
      const provinces = await get('?level=province&q=L0').expect(200);
      const secondPage = await get(`?parentCode=${province.code}&pageSize=2&page=2`).expect(200);

      expect(children.body).toEqual({ items: expect.any(Array), total: 3, page: 1, pageSize: 50 });
      expect(children.body.items.map((a: { code: string }) => a.code)).toEqual(['L0-a', 'L0-b', 'L0-c']);
      expect(children.body.items[0]).toEqual({
        code: 'L0-a',
        name: 'Huyện AxB',
        level: 'district',
        parentCode: 'L0',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(underscore.body.items.map((a: { name: string }) => a.name)).toEqual(['Huyện A_B']);
      expect(caseless.body.items.map((a: { name: string }) => a.name)).toEqual(['Huyện AxB']);
      expect(byCode.body.items.map((a: { code: string }) => a.code)).toEqual(['L0-c']);
      expect(provinces.body.items.map((a: { code: string }) => a.code)).toEqual(['L0']);
      expect(secondPage.body).toMatchObject({ total: 3, page: 2, pageSize: 2, items: [{ code: 'L0-c' }] });
    });

    it('answers 404 for an unknown parent and 400 for bad filters', async () => {
      const unknown = await get('?parentCode=nowhere').expect(404);
      const badLevel = await get('?level=city').expect(400);
      await get('?pageSize=0').expect(400);

      expect(unknown.body.message).toBe('area nowhere not found');
      expect(badLevel.body.message).toEqual(['level must be one of province, district, commune, village']);
    });
  });

  describe('renaming', () => {
    it('changes the name and nothing else', async () => {
      const tree = await anAreaTree(t);
      const before = await get(`/${tree.commune}`).expect(200);

      const res = await patch(tree.commune, { name: 'Xã Mới Đổi Tên' }).expect(200);
      const after = await get(`/${tree.commune}`).expect(200);

      expect(res.body).toMatchObject({ code: tree.commune, name: 'Xã Mới Đổi Tên', level: 'commune', parentCode: tree.district });
      expect(after.body).toMatchObject({ name: 'Xã Mới Đổi Tên', ancestors: before.body.ancestors });
      expect(Date.parse(after.body.updatedAt)).toBeGreaterThan(Date.parse(before.body.updatedAt));
    });

    it.each(['parentCode', 'level', 'code'])('refuses to change %s, saying why', async (field) => {
      const tree = await anAreaTree(t);

      const res = await patch(tree.commune, { [field]: 'x' }).expect(400);
      const after = await get(`/${tree.commune}`).expect(200);

      expect(res.body).toEqual({
        error: 'validation',
        message: [`${field} cannot change: official codes encode the hierarchy, so a moved area gets new codes — import them instead`],
      });
      expect(after.body).toMatchObject({ code: tree.commune, level: 'commune', parentCode: tree.district });
    });

    it('rejects unknown fields and blank names, and answers 404 for an unknown area', async () => {
      const area = await anArea(t);

      const unknownField = await patch(area.code, { population: 5 }).expect(400);
      await patch(area.code, { name: '' }).expect(400);
      const missing = await patch('nowhere', { name: 'X' }).expect(404);

      expect(unknownField.body.message).toEqual(['property population should not exist']);
      expect(missing.body.message).toBe('area nowhere not found');
    });
  });

  describe('deleting', () => {
    it('deletes a leaf area', async () => {
      const tree = await anAreaTree(t);

      await del(tree.commune).expect(204);

      await get(`/${tree.commune}`).expect(404);
      expect((await get(`/${tree.district}`).expect(200)).body.childCount).toBe(0);
    });

    it('refuses while child areas remain', async () => {
      const province = await anArea(t);
      await anArea(t, { parentCode: province.code });
      await anArea(t, { parentCode: province.code });

      const res = await del(province.code).expect(409);

      expect(res.body).toEqual({ error: 'conflict', message: `area ${province.code} still has 2 child areas` });
      await get(`/${province.code}`).expect(200);
    });

    it('refuses while a device, even a decommissioned one, is in the area', async () => {
      const tree = await anAreaTree(t);
      await t.app.get(DataSource).query(
        `INSERT INTO devices (code, name, area_id, secret_hash, secret_rotated_at, decommissioned_at)
         SELECT $1, 'Loa thử', id, 'not-a-hash', now(), now() FROM areas WHERE code = $2`,
        [`dev-${tree.commune}`, tree.commune],
      );

      const res = await del(tree.commune).expect(409);

      expect(res.body).toEqual({ error: 'conflict', message: `area ${tree.commune} still has 1 device` });
      await get(`/${tree.commune}`).expect(200);
    });

    it('answers 404 for an unknown area', async () => {
      const res = await del('nowhere').expect(404);

      expect(res.body.message).toBe('area nowhere not found');
    });
  });

  describe('importing a GSO list', () => {
    it('imports the demo file: Vi Hương sits under Bạch Thông under Bắc Kạn', async () => {
      const res = await upload(DEMO_CSV).expect(200);
      const viHuong = await get('/01975').expect(200);
      const bachThong = await get('?parentCode=063').expect(200);
      const districts = await get('?parentCode=06').expect(200);

      expect(res.body).toEqual({ created: 23, updated: 0, unchanged: 0, rows: 18 });
      expect(viHuong.body).toMatchObject({
        code: '01975',
        name: 'Xã Vi Hương',
        level: 'commune',
        parentCode: '063',
        childCount: 0,
        ancestors: [
          { code: '06', name: 'Tỉnh Bắc Kạn', level: 'province' },
          { code: '063', name: 'Huyện Bạch Thông', level: 'district' },
        ],
      });
      expect(bachThong.body.total).toBe(5);
      expect(districts.body.items.map((a: { code: string }) => a.code)).toEqual(['058', '061', '063', '065']);
    });

    it('finds everything unchanged on a second import', async () => {
      await upload(DEMO_CSV).expect(200);

      const res = await upload(DEMO_CSV).expect(200);

      expect(res.body).toEqual({ created: 0, updated: 0, unchanged: 23, rows: 18 });
    });

    it('reads English headers, a BOM, CRLF and any column order, and renames by code', async () => {
      const header = 'level,commune_code,commune_name,district_code,district_name,province_code,province_name';
      const first = ['Xã,91001,Xã Một,911,Huyện Chín,91,Tỉnh Chín', 'Phường,91002,Phường Hai,911,Huyện Chín,91,Tỉnh Chín'];
      const second = ['Xã,91001,Xã Một Đã Đổi,911,Huyện Chín,91,Tỉnh Chín', first[1], 'Xã,91003,Xã Ba,911,Huyện Chín,91,Tỉnh Chín'];

      const created = await upload(`\uFEFF${[header, ...first].join('\r\n')}\r\n`).expect(200);
      const updated = await upload([header, ...second].join('\n')).expect(200);
      const renamed = await get('/91001').expect(200);

      expect(created.body).toEqual({ created: 4, updated: 0, unchanged: 0, rows: 2 });
      expect(updated.body).toEqual({ created: 1, updated: 1, unchanged: 3, rows: 3 });
      expect(renamed.body).toMatchObject({ name: 'Xã Một Đã Đổi', parentCode: '911' });
    });

    it('writes nothing when one row is bad, and names every bad line', async () => {
      const csv = [
        GSO_HEADER,
        '92,Tỉnh Hỏng,921,Huyện Hỏng,92001,Xã Tốt,Xã',
        '92,Tỉnh Hỏng,921,Huyện Hỏng,9200A,Xã Mã Sai,Xã',
        '92,Tỉnh Hỏng,921,Huyện Hỏng,92003',
        '9,Tỉnh Hỏng,921,Huyện Hỏng,92004,Xã Mất Số Không,Xã',
        '92,Tỉnh Hỏng,921,Huyện Khác Tên,92005,Xã Năm,Xã',
      ].join('\n');

      const res = await upload(csv).expect(400);

      expect(res.body).toEqual({
        error: 'invalid-csv',
        problemCount: 4,
        message: [
          'line 3: commune code "9200A" must be 5 digits',
          'line 4: expected 7 columns, found 5',
          'line 5: province code "9" must be 2 digits (a spreadsheet may have dropped its leading zeros)',
          'line 6: district 921 is named "Huyện Khác Tên" here but "Huyện Hỏng" on line 2',
        ],
      });
      await get('/92').expect(404);
      await get('/92001').expect(404);
    });

    it('lists at most 20 problems', async () => {
      const rows = Array.from({ length: 25 }, (_, i) => `93,Tỉnh,931,Huyện,x${i},Xã,Xã`);

      const res = await upload([GSO_HEADER, ...rows].join('\n')).expect(400);

      expect(res.body.problemCount).toBe(25);
      expect(res.body.message).toHaveLength(20);
      expect(res.body.message[0]).toBe('line 2: commune code "x0" must be 5 digits');
    });

    it('refuses to move an existing commune to another district, writing nothing', async () => {
      await upload(DEMO_CSV).expect(200);
      const csv = [
        GSO_HEADER,
        '06,Tỉnh Bắc Kạn,065,Huyện Chợ Mới,02119,Xã Thanh Bình,Xã',
        '06,Tỉnh Bắc Kạn,058,Thành phố Bắc Kạn,01975,Xã Vi Hương,Xã',
      ].join('\n');

      const res = await upload(csv).expect(400);

      expect(res.body.message).toEqual([
        'line 3: commune 01975 is under 058 here but under 063 in Loa; official codes do not move between parents',
      ]);
      await get('/02119').expect(404);
      expect((await get('/01975').expect(200)).body.parentCode).toBe('063');
    });

    it('refuses a code that exists at another level', async () => {
      await anArea(t, { code: '94', level: 'province', name: 'Tỉnh Chín Tư' });
      await anArea(t, { code: '941', level: 'district', parentCode: '94' });
      await anArea(t, { code: '94001', level: 'district', parentCode: '94' });

      const res = await upload(`${GSO_HEADER}\n94,Tỉnh Chín Tư,941,Huyện,94001,Xã,Xã`).expect(400);

      expect(res.body.message).toEqual(['line 2: 94001 is a commune here but a district in Loa']);
    });

    it.each([
      ['binary data', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]), 'line 1: the file is not UTF-8 text; save the spreadsheet as "CSV UTF-8"'],
      ['Latin-1 text', Buffer.from('Mã TP,Tỉnh\n', 'latin1'), 'line 1: the file is not UTF-8 text; save the spreadsheet as "CSV UTF-8"'],
      ['an unknown header', 'name,code\nHà Nội,01\n', 'line 1: header not recognised'],
      ['an empty file', '', 'line 1: the file is empty'],
      ['a header without rows', `${GSO_HEADER}\n`, 'line 1: the file has a header but no rows'],
      ['an unclosed quote', `${GSO_HEADER}\n06,"Tỉnh Bắc Kạn,058,X,01834,Y,Xã\n`, 'not readable as CSV'],
    ])('rejects %s with 400', async (_, file, message) => {
      const res = await upload(file).expect(400);

      expect(res.body.error).toBe('invalid-csv');
      expect(res.body.message[0]).toContain(message);
    });

    it('asks for the file when none is sent', async () => {
      const json = await t.http().post('/api/v1/areas/import').set('Authorization', t.auth).send({ csv: 'x' }).expect(400);
      const noPart = await t.http().post('/api/v1/areas/import').set('Authorization', t.auth).field('note', 'no file').expect(400);
      const otherField = await t
        .http()
        .post('/api/v1/areas/import')
        .set('Authorization', t.auth)
        .attach('upload', DEMO_CSV, 'areas.csv')
        .expect(400);

      expect(json.body.message).toEqual(['file is required: send the CSV as multipart/form-data field "file"']);
      expect(noPart.body.message).toEqual(json.body.message);
      expect(otherField.body.message).toBe('Unexpected file field - upload');
    });

    it('refuses a file over 20 MB with 413', async () => {
      const big = Buffer.alloc(20 * 1024 * 1024 + 1, 'a');

      const res = await upload(big);

      expect(res.status).toBe(413);
    });
  });
});
